// Retry with exponential backoff and jitter (cockatiel's backoff). Three rules on top:
//  - only retryable ProviderErrors are retried (429, 529/503, 5xx, timeouts, resets): a 400 would
//    fail the same way again, and a rejection by the bulkhead or an open breaker means "fail over";
//  - the provider's own `retry-after` wait (or a 429's reset of its exhausted limit:
//    provider-error.ts) beats the backoff, up to a cap (max(max_delay, 60 s)); a provider asking
//    for longer than the cap is not retried at all — retrying early would only collect another
//    429, failing lets a fallback take over;
//  - no retry while the breaker is open.

import { setTimeout as sleep } from 'node:timers/promises';
import type { IBackoff, IBackoffFactory } from 'cockatiel';
import { ExponentialBackoff, halfJitterGenerator, noJitterGenerator } from 'cockatiel';
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
 * The retry rules of one gate for one set of retry options, built once and shared by every call.
 * The loop itself is the gate's (ProviderGate.execute): a `for` over attempts, one async frame for
 * the whole call. cockatiel's RetryPolicy was that loop before; through its executor it added three
 * suspended frames and a result object per attempt to every call in flight, for a loop this short
 * (with 500 runs in flight the whole gate was about a quarter of a step's event-loop time; see
 * bench/README.md, "Eighth round"). cockatiel still provides
 * the backoff (ExponentialBackoff and its jitter). Per-call state — the backoff so far, the last
 * error — lives in a RetryPlan, made by `plan()` only when an attempt fails.
 *
 * The wait (the provider's `retry-after` when it sent one, else the exponential backoff) is slept
 * with the run's signal: a cancelled run stops waiting at once, leaving no timer behind.
 */
export class GateRetry {
  /** Attempts in all, the first one included. */
  readonly maxAttempts: number;
  private readonly exponential: IBackoffFactory<unknown>;
  private readonly capMs: number;

  constructor(
    private readonly options: RetryOptions,
    private readonly context: RetryDecisionContext,
  ) {
    this.exponential = new ExponentialBackoff({
      initialDelay: options.baseDelayMs,
      maxDelay: options.maxDelayMs,
      // Half jitter: a delay in [d/2, d] — spreads a thundering herd, still grows predictably.
      generator: options.jitter ? halfJitterGenerator : noJitterGenerator,
    });
    this.capMs = retryAfterCapMs(options);
    this.maxAttempts = Math.max(1, options.maxAttempts);
  }

  /** Whether the call that just made attempt number `attempt` and failed with `error` tries again. */
  retries(error: unknown, attempt: number): boolean {
    return attempt < this.maxAttempts && shouldRetry(error, this.options, this.context);
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
