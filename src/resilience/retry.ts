// Retry with exponential backoff and jitter, on cockatiel's RetryPolicy. Three rules on top:
//  - only retryable ProviderErrors are retried (429, 529/503, 5xx, timeouts, resets): a 400 would
//    fail the same way again, and a rejection by the bulkhead or an open breaker means "fail over";
//  - the provider's own `retry-after` / `x-ratelimit-*` wait beats the backoff, up to a cap
//    (max(max_delay, 60 s)); a provider asking for longer than the cap is not retried at all —
//    retrying early would only collect another 429, failing lets a fallback take over;
//  - no retry while the breaker is open.

import { setTimeout as sleep } from 'node:timers/promises';
import type { IBackoff, IBackoffFactory, IRetryBackoffContext, RetryPolicy } from 'cockatiel';
import { ExponentialBackoff, halfJitterGenerator, handleWhen, noJitterGenerator, retry } from 'cockatiel';
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

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 30_000, jitter: true };

/** Retry options of a step: its `retry:` over the pipeline's `defaults.retry:` over DEFAULT_RETRY. */
export function resolveRetryOptions(step?: Retry, defaults?: Retry): RetryOptions {
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
 * Backoff whose next delay is the provider's `retryAfterMs` when it sent one, else exponential.
 * It hands the delay to `plan` and tells cockatiel to wait 0 ms: the wait is slept at the start of
 * the next attempt instead (GateRetry.waitBeforeAttempt), with the run's signal — cockatiel's own
 * sleep cannot be cancelled, and a cancelled run must stop waiting at once, leaving no timer behind.
 */
class RetryAfterBackoff implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  constructor(
    private readonly exponential: IBackoffFactory<unknown>,
    private readonly capMs: number,
    private readonly plan: (delayMs: number) => void,
    private readonly previous?: IBackoff<unknown>,
  ) {}

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const step = this.previous ? this.previous.next(context) : this.exponential.next(context);
    const error = 'error' in context.result ? context.result.error : undefined;
    const asked = error instanceof ProviderError ? error.retryAfterMs : undefined;
    this.plan(asked === undefined ? step.duration : Math.min(asked, this.capMs));
    const rest = new RetryAfterBackoff(this.exponential, this.capMs, this.plan, step);
    return { duration: 0, next: (ctx) => rest.next(ctx) };
  }
}

/** cockatiel's retry loop and backoff, with the wait between attempts made abortable. */
export class GateRetry {
  readonly policy: RetryPolicy;
  private pendingDelayMs = 0;

  constructor(options: RetryOptions, context: RetryDecisionContext) {
    const exponential = new ExponentialBackoff({
      initialDelay: options.baseDelayMs,
      maxDelay: options.maxDelayMs,
      // Half jitter: a delay in [d/2, d] — spreads a thundering herd, still grows predictably.
      generator: options.jitter ? halfJitterGenerator : noJitterGenerator,
    });
    this.policy = retry(
      handleWhen((error) => shouldRetry(error, options, context)),
      {
        // cockatiel counts retries, we count attempts.
        maxAttempts: Math.max(0, options.maxAttempts - 1),
        backoff: new RetryAfterBackoff(exponential, retryAfterCapMs(options), (ms) => {
          this.pendingDelayMs = ms;
        }),
      },
    );
  }

  /** The wait chosen before the next attempt (what `pipeline.provider.retry` reports). */
  get plannedDelayMs(): number {
    return this.pendingDelayMs;
  }

  /** Sleeps the chosen wait (nothing before the first attempt); rejects at once when `signal` fires. */
  async waitBeforeAttempt(signal: AbortSignal): Promise<void> {
    const delay = this.pendingDelayMs;
    this.pendingDelayMs = 0;
    if (delay > 0) await sleep(delay, undefined, { signal });
  }
}
