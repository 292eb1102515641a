// Retry with exponential backoff and jitter, on cockatiel's RetryPolicy. Three rules on top:
//  - only retryable ProviderErrors are retried (429, 529/503, 5xx, timeouts, resets): a 400 would
//    fail the same way again, and a rejection by the bulkhead or an open breaker means "fail over";
//  - the provider's own `retry-after` / `x-ratelimit-*` wait beats the backoff, up to a cap
//    (max(max_delay, 60 s)); a provider asking for longer than the cap is not retried at all —
//    retrying early would only collect another 429, failing lets a fallback take over;
//  - no retry while the breaker is open.

import { setTimeout as sleep } from 'node:timers/promises';
import type { IBackoff, IBackoffFactory, RetryPolicy } from 'cockatiel';
import {
  ConstantBackoff,
  ExponentialBackoff,
  halfJitterGenerator,
  handleWhen,
  noJitterGenerator,
  retry,
} from 'cockatiel';
import { parseDuration } from '../config/duration.js';
import type { Retry } from '../config/schema.js';
import { ProviderError } from '../providers/provider-error.js';

export interface RetryOptions {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  jitter: boolean;
}

export const DEFAULT_RETRY: RetryOptions = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  jitter: true,
});

/** Retry options of a step: its `retry:` over the pipeline's `defaults.retry:` over DEFAULT_RETRY. */
export function resolveRetryOptions(step?: Retry, defaults?: Retry): RetryOptions {
  // The usual case, and one object for it: the gate recognises it without building a key.
  if (step === undefined && defaults === undefined) return DEFAULT_RETRY;
  const pick = <K extends keyof Retry>(key: K) => step?.[key] ?? defaults?.[key];
  const base = pick('base_delay');
  const max = pick('max_delay');
  return {
    maxAttempts: pick('max_attempts') ?? DEFAULT_RETRY.maxAttempts,
    baseDelayMs: base === undefined ? DEFAULT_RETRY.baseDelayMs : parseDuration(base),
    maxDelayMs: max === undefined ? DEFAULT_RETRY.maxDelayMs : parseDuration(max),
    jitter: pick('jitter') ?? DEFAULT_RETRY.jitter,
  };
}

/** The longest provider-requested wait we honour; see the file comment. */
export function retryAfterCapMs(options: RetryOptions): number {
  return Math.max(options.maxDelayMs, 60_000);
}

export interface RetryDecisionContext {
  /** Whether the provider's circuit is open right now. */
  breakerOpen(): boolean;
}

export function shouldRetry(error: unknown, options: RetryOptions, context: RetryDecisionContext): boolean {
  if (!(error instanceof ProviderError) || !error.retryable) return false;
  if (error.retryAfterMs !== undefined && error.retryAfterMs > retryAfterCapMs(options)) return false;
  return !context.breakerOpen();
}

/**
 * cockatiel's retry loop for one gate and one set of retry options, built once and shared by every
 * call (building a policy, its backoff and its listeners per call was a measurable part of a call's
 * cost). Per-call state — the backoff so far, the last error — lives in a RetryPlan, made by
 * `plan()` and used only when an attempt fails.
 *
 * cockatiel waits 0 ms between attempts: the real wait (the provider's `retry-after` when it sent
 * one, else the exponential backoff) is slept at the start of the next attempt with the run's
 * signal — cockatiel's own sleep cannot be cancelled, and a cancelled run must stop waiting at once,
 * leaving no timer behind.
 */
export class GateRetry {
  readonly policy: RetryPolicy;
  private readonly exponential: IBackoffFactory<unknown>;
  private readonly capMs: number;

  constructor(options: RetryOptions, context: RetryDecisionContext) {
    this.exponential = new ExponentialBackoff({
      initialDelay: options.baseDelayMs,
      maxDelay: options.maxDelayMs,
      // Half jitter: a delay in [d/2, d] — spreads a thundering herd, still grows predictably.
      generator: options.jitter ? halfJitterGenerator : noJitterGenerator,
    });
    this.capMs = retryAfterCapMs(options);
    this.policy = retry(
      handleWhen((error) => shouldRetry(error, options, context)),
      // cockatiel counts retries, we count attempts.
      { maxAttempts: Math.max(0, options.maxAttempts - 1), backoff: new ConstantBackoff(0) },
    );
  }

  /** The per-call schedule of waits. */
  plan(): RetryPlan {
    return new RetryPlan(this.exponential, this.capMs);
  }
}

/** One call's waits between attempts: exponential, unless the provider said how long. */
export class RetryPlan {
  private backoff?: IBackoff<unknown>;
  /** The error of the attempt that just failed. */
  lastError?: Error;

  constructor(
    private readonly exponential: IBackoffFactory<unknown>,
    private readonly capMs: number,
  ) {}

  /** The wait before `attempt` (2 for the first retry), after `lastError`. */
  nextDelayMs(attempt: number): number {
    const context = { attempt: attempt - 1 };
    this.backoff = this.backoff ? this.backoff.next(context) : this.exponential.next(context);
    const error = this.lastError;
    const asked = error instanceof ProviderError ? error.retryAfterMs : undefined;
    return asked === undefined ? this.backoff.duration : Math.min(asked, this.capMs);
  }

  /** Sleeps `delayMs`; rejects at once when `signal` fires. */
  async wait(delayMs: number, signal: AbortSignal): Promise<void> {
    if (delayMs > 0) await sleep(delayMs, undefined, { signal });
  }
}
