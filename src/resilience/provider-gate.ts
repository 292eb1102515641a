// One provider's gate: every call to that provider, from every run in the process, passes here.
//
// Order, outermost first:  retry ▸ rate limit ▸ bulkhead ▸ breaker ▸ timeout ▸ call
//
// DESIGN.md sketches bulkhead ▸ breaker ▸ retry ▸ timeout. We put retry outside the bulkhead on
// purpose: a backoff sleep (up to a minute when a 429 says `retry-after: 60`) must not hold one of
// the provider's concurrency slots — under a rate-limit storm every slot would be asleep and
// healthy calls would queue behind them. With retry outermost each attempt queues for a slot
// afresh, is counted by the breaker on its own (five failed attempts open it, whichever calls
// they belong to), and gets its own timeout. Retry stops as soon as the breaker is open, and
// an open breaker or a full bulkhead is never retried (isFailFast: the engine fails over).
// The rate limiter sits outside the bulkhead too: waiting for the window must not hold a slot.

import { ProviderError } from '../providers/provider-error.js';
import type { EventBus } from '../telemetry/event-bus.js';
import { abortError } from './abort.js';
import { ProviderBulkhead } from './bulkhead.js';
import type { CircuitStateName } from './circuit-breaker.js';
import { CircuitOpenError, isProviderFault, ProviderCircuitBreaker } from './circuit-breaker.js';
import { GATE_DEFAULTS, type GateOptions } from './gate-options.js';
import type { RateGate, RateReservation } from './rate-limiter.js';
import { RateLimiter } from './rate-limiter.js';
import type { RetryOptions } from './retry.js';
import { DEFAULT_RETRY, GateRetry, type RetryPlan } from './retry.js';
import { withAttemptTimeout } from './timeout.js';

export interface RetryNotice {
  /** The attempt about to be made (2 for the first retry). */
  attempt: number;
  delayMs: number;
  error: Error;
}

export interface GateCallOptions<T> {
  /** The run's signal: cancels waits, queues and the HTTP request. */
  signal: AbortSignal;
  retry?: RetryOptions;
  /**
   * The attempt timeout the caller wants (its step's); the provider's timeout caps it when the
   * pipeline declares one. None: the caller's `deadline` bounds the attempt, else the 300 s default.
   */
  timeoutMs?: number;
  /**
   * When `signal` fires on a deadline of the caller's (performance.now() ms): an attempt whose own
   * timeout would end at or after it is bounded already, and gets no timer of its own.
   */
  deadline?: number;
  /**
   * Estimated tokens of the call, for the tokens-per-minute limit: asked only when the provider has
   * one (the estimate reads every character of the prompt, which may be whole files).
   */
  estimateTokens?: () => number;
  /** Real tokens of a finished call, to correct the estimate. */
  usedTokens?: (value: T) => number;
  onAttempt?: (attempt: number) => void;
  onRetry?: (notice: RetryNotice) => void;
}

/**
 * Admission beyond this process (cluster mode: a Redis-backed semaphore shared by every worker).
 * Asked inside the local bulkhead, just before the breaker; resolves with the release of the slot.
 * May throw CircuitOpenError when the provider's breaker is open elsewhere in the cluster.
 */
export interface SharedAdmission {
  acquire(signal: AbortSignal): Promise<() => void>;
  /** Told of every state change of this gate's own breaker (to share it with the other workers). */
  circuit?(state: CircuitStateName): void;
}

const MAX_RETRY_POLICIES = 64;

export class ProviderGate {
  readonly bulkhead: ProviderBulkhead;
  readonly breaker: ProviderCircuitBreaker;
  readonly rateLimiter?: RateLimiter;
  private readonly retries = new Map<string, GateRetry>();
  private lastRetry?: { options: RetryOptions; retry: GateRetry };

  constructor(
    readonly provider: string,
    readonly options: GateOptions,
    bus?: EventBus,
    private readonly admission?: SharedAdmission,
    /** A rate limit shared beyond this process (cluster mode); it replaces the local one. */
    private readonly sharedRate?: RateGate,
  ) {
    this.bulkhead = new ProviderBulkhead(provider, options.maxConcurrency, options.maxQueue, bus);
    this.breaker = new ProviderCircuitBreaker(provider, options.failureThreshold, options.recoveryTimeoutMs, bus);
    if (admission?.circuit) {
      const share = admission.circuit.bind(admission);
      this.breaker.onStateChange(share);
    }
    if (options.rateLimit && !sharedRate) this.rateLimiter = new RateLimiter(options.rateLimit);
  }

  get circuitState(): CircuitStateName {
    return this.breaker.state;
  }

  /**
   * Runs `fn` (one attempt: it receives the attempt's signal and number) under every policy. One
   * async frame for the whole call, retries included: hundreds of calls in flight each keep their
   * suspended frames alive through every garbage collection while they wait.
   */
  async execute<T>(fn: (signal: AbortSignal, attempt: number) => Promise<T>, options: GateCallOptions<T>): Promise<T> {
    // Counted from the start to the end, retry waits and rate-limit waits included (pendingCalls).
    this.calls++;
    try {
      const retry = this.retryFor(options.retry ?? DEFAULT_RETRY);
      const timeoutMs = this.attemptTimeoutMs(options);
      const { signal } = options;
      // Made only when an attempt fails: most calls succeed at once and need no schedule of waits.
      let plan: RetryPlan | undefined;
      for (let attempt = 1; ; attempt++) {
        try {
          if (signal.aborted) throw abortError(this.provider, signal);
          if (plan) {
            const delayMs = plan.nextDelayMs(attempt);
            options.onRetry?.({ attempt, delayMs, error: plan.lastError as Error });
            await plan.wait(delayMs, signal);
          }
          return await this.attempt(fn, attempt, timeoutMs, options);
        } catch (error) {
          // Cancelled (the run stopped, a sibling failed): the run's reason, not what the wait or the
          // call made of it.
          if (signal.aborted) throw abortError(this.provider, signal);
          // A fault that opened the circuit (retry stops there): say so, so that the engine fails over
          // at once (isFailFast) instead of treating it as an ordinary failure.
          if (isProviderFault(error) && this.breakerOpen()) {
            throw new CircuitOpenError(this.provider, this.options.recoveryTimeoutMs, error);
          }
          if (!retry.retries(error, attempt)) throw error;
          plan ??= retry.plan();
          plan.lastError = error instanceof Error ? error : new Error(String(error));
        }
      }
    } finally {
      this.calls--;
    }
  }

  private calls = 0;

  /**
   * An attempt's timeout: the caller's, capped by the provider's only when the pipeline declares
   * one. The 300 s default is no cap: it stands for a timeout nobody set, and capping with it cut a
   * step's `timeout: 15m` at five minutes per attempt — each cut attempt retried, and paid again
   * (the vendor bills what it generated). A caller with a deadline but no timeout of its own (a step
   * under `defaults.timeout:`) is bounded by that deadline; the default applies only when neither
   * the provider nor the caller says anything.
   */
  private attemptTimeoutMs(options: Pick<GateCallOptions<unknown>, 'timeoutMs' | 'deadline'>): number {
    const declared = this.options.timeoutMs;
    const asked =
      options.timeoutMs ??
      (options.deadline === undefined ? (declared ?? GATE_DEFAULTS.timeoutMs) : Number.POSITIVE_INFINITY);
    return declared === undefined ? asked : Math.min(asked, declared);
  }

  /**
   * Calls inside execute(): holding a slot, queued for one, waiting for the rate limit or between
   * retries (the registry lets go of a gate only with none: gate-registry.ts).
   */
  get pendingCalls(): number {
    return this.calls;
  }

  private readonly breakerOpen = (): boolean => this.breaker.state === 'open';

  /** One retry policy per set of retry options (a pipeline has few), shared by every call. */
  private retryFor(options: RetryOptions): GateRetry {
    // Most calls pass the same options object (DEFAULT_RETRY, or a step's resolved once): no key to build.
    if (options === this.lastRetry?.options) return this.lastRetry.retry;
    const key = `${options.maxAttempts}|${options.baseDelayMs}|${options.maxDelayMs}|${options.jitter}`;
    let retry = this.retries.get(key);
    if (!retry) {
      if (this.retries.size >= MAX_RETRY_POLICIES) this.retries.clear();
      retry = new GateRetry(options, { breakerOpen: this.breakerOpen });
      this.retries.set(key, retry);
    }
    this.lastRetry = { options, retry };
    return retry;
  }

  /** One attempt: the rate limit's allowance first (when there is one), then a slot, then the call. */
  private attempt<T>(
    fn: (signal: AbortSignal, attempt: number) => Promise<T>,
    attempt: number,
    timeoutMs: number,
    options: GateCallOptions<T>,
  ): Promise<T> {
    const limiter: RateGate | undefined = this.sharedRate ?? this.rateLimiter;
    // No rate limit: the slot's promise is the attempt's, with no async frame of its own.
    if (!limiter) return this.admitted(fn, attempt, timeoutMs, options);
    return this.limitedAttempt(limiter, fn, attempt, timeoutMs, options);
  }

  private async limitedAttempt<T>(
    limiter: RateGate,
    fn: (signal: AbortSignal, attempt: number) => Promise<T>,
    attempt: number,
    timeoutMs: number,
    options: GateCallOptions<T>,
  ): Promise<T> {
    const estimate = options.estimateTokens?.() ?? 0;
    const reservation: RateReservation = await limiter.acquire(estimate, options.signal);
    let reachedProvider = false;
    try {
      const value = await this.admitted(fn, attempt, timeoutMs, options, () => {
        reachedProvider = true;
      });
      limiter.settle(reservation, options.usedTokens?.(value) ?? estimate);
      return value;
    } catch (error) {
      // A call turned away by the bulkhead or the breaker used none of the provider's allowance.
      if (!reachedProvider) limiter.release(reservation);
      throw error;
    }
  }

  /** The attempt past the rate limit: a slot of the bulkhead (and the cluster's), the breaker, the call. */
  private admitted<T>(
    fn: (signal: AbortSignal, attempt: number) => Promise<T>,
    attempt: number,
    timeoutMs: number,
    options: GateCallOptions<T>,
    reached?: () => void,
  ): Promise<T> {
    const call = (): Promise<T> => {
      reached?.();
      options.onAttempt?.(attempt);
      // The caller's signal fires first: the step's timer covers this attempt (the usual case of
      // a step whose timeout is its provider's) — one timer and AbortController fewer per call.
      if (options.deadline !== undefined && performance.now() + timeoutMs >= options.deadline) {
        return untimedAttempt(this.provider, options.signal, options.deadline, fn(options.signal, attempt));
      }
      return withAttemptTimeout(this.provider, timeoutMs, options.signal, (signal) => fn(signal, attempt));
    };
    const admission = this.admission;
    return this.bulkhead.execute(
      admission
        ? async () => {
            // Cluster mode: a slot of the cluster-wide limit, held while the call runs.
            const release = await admission.acquire(options.signal);
            try {
              return await this.breaker.execute(call, options.signal);
            } finally {
              release();
            }
          }
        : // One process: no admission, and no async layer for it on every call.
          () => this.breaker.execute(call, options.signal),
      options.signal,
    );
  }
}

/**
 * An attempt under the caller's deadline: a stop from outside surfaces as it would from a timed one.
 * The deadline ending the call is the provider not answering in time, as an attempt's own timeout
 * would have said: a fault the breaker counts (the caller is still told of its own timeout — the
 * gate gives a stopped call the signal's reason). Else a provider that hangs would never open the
 * circuit under the default settings, where the step's timeout and the provider's are one.
 * A promise chain, not an async function: hundreds of calls in flight would each keep one more
 * suspended frame alive through every garbage collection while they wait.
 */
function untimedAttempt<T>(provider: string, signal: AbortSignal, deadline: number, work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => {
    if (!signal.aborted) throw error;
    // Timers fire at the millisecond, never early by more than the clocks' difference.
    if (performance.now() >= deadline - 1) {
      throw new ProviderError(provider, 'timeout', 'no answer before the step timed out', { cause: error });
    }
    throw abortError(provider, signal);
  });
}
