// Retry with exponential backoff and jitter, on cockatiel's RetryPolicy. Three rules on top:
//  - only retryable ProviderErrors are retried (429, 529/503, 5xx, timeouts, resets): a 400 would
//    fail the same way again, and a rejection by the bulkhead or an open breaker means "fail over";
//  - the provider's own `retry-after` / `x-ratelimit-*` wait beats the backoff, up to a cap
//    (max(max_delay, 60 s)); a provider asking for longer than the cap is not retried at all —
//    retrying early would only collect another 429, failing lets a fallback take over;
//  - no retry while the breaker is open.

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

/** Backoff whose next delay is the provider's `retryAfterMs` when it sent one, else exponential. */
class RetryAfterBackoff implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  constructor(
    private readonly exponential: IBackoffFactory<unknown>,
    private readonly capMs: number,
    private readonly previous?: IBackoff<unknown>,
  ) {}

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const step = this.previous ? this.previous.next(context) : this.exponential.next(context);
    const error = 'error' in context.result ? context.result.error : undefined;
    const asked = error instanceof ProviderError ? error.retryAfterMs : undefined;
    const duration = asked === undefined ? step.duration : Math.min(asked, this.capMs);
    const rest = new RetryAfterBackoff(this.exponential, this.capMs, step);
    return { duration, next: (ctx) => rest.next(ctx) };
  }
}

export function createRetryPolicy(options: RetryOptions, context: RetryDecisionContext): RetryPolicy {
  const exponential = new ExponentialBackoff({
    initialDelay: options.baseDelayMs,
    maxDelay: options.maxDelayMs,
    // Half jitter: a delay in [d/2, d] — spreads a thundering herd, still grows predictably.
    generator: options.jitter ? halfJitterGenerator : noJitterGenerator,
  });
  // The sleep between attempts stays a referenced timer: when it is all a run is waiting for, an
  // unreferenced one would let the process exit mid-run. A cancelled run's sleep is abandoned by
  // raceAbort in the gate and ends on its own (at most the retry-after cap).
  return retry(
    handleWhen((error) => shouldRetry(error, options, context)),
    // cockatiel counts retries, we count attempts.
    {
      maxAttempts: Math.max(0, options.maxAttempts - 1),
      backoff: new RetryAfterBackoff(exponential, retryAfterCapMs(options)),
    },
  );
}
