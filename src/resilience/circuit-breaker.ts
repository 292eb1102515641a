// The circuit breaker: after `failureThreshold` consecutive provider faults it opens and every
// call fails fast (no request leaves the process) until `recoveryTimeoutMs` has passed; then one
// probe goes through (half-open) and its outcome closes or re-opens the circuit.
// Only provider faults count (5xx, 529, timeouts, resets): a 400 or a 401 says nothing about the
// provider's health. Built on cockatiel's CircuitBreakerPolicy + ConsecutiveBreaker.

import type { CircuitBreakerPolicy } from 'cockatiel';
import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, isBrokenCircuitError } from 'cockatiel';
import { ElexirionError } from '../errors.js';
import { ProviderError } from '../providers/provider-error.js';
import type { EventBus } from '../telemetry/event-bus.js';
import { raceAbort } from './abort.js';

export type CircuitStateName = 'closed' | 'open' | 'half_open';

export class CircuitOpenError extends ElexirionError {
  readonly provider: string;
  constructor(provider: string, recoveryTimeoutMs: number, lastFault?: unknown) {
    const last = lastFault instanceof Error ? ` (last fault: ${lastFault.message})` : '';
    super(
      `${provider}: circuit open after repeated provider faults${last}; calls fail fast for up to ${recoveryTimeoutMs} ms before a probe is let through`,
      {
        hint: 'add a `fallback:` to the step to fail over to another provider, or retry the run later',
        cause: lastFault,
      },
    );
    this.provider = provider;
  }
}

/** Whether an error is a fault of the provider — the only kind the breaker counts. */
export function isProviderFault(error: unknown): boolean {
  return error instanceof ProviderError && error.providerFault;
}

export class ProviderCircuitBreaker {
  private readonly policy: CircuitBreakerPolicy;
  private readonly counter: ConsecutiveBreaker;

  constructor(
    readonly provider: string,
    readonly failureThreshold: number,
    readonly recoveryTimeoutMs: number,
    bus?: EventBus,
  ) {
    this.counter = new ConsecutiveBreaker(failureThreshold);
    this.policy = circuitBreaker(
      handleWhen((error) => isProviderFault(error) || error instanceof InconclusiveProbe),
      {
        halfOpenAfter: recoveryTimeoutMs,
        breaker: this.counter,
      },
    );
    // A closed circuit starts counting afresh. cockatiel resets the count itself only when the probe
    // succeeds; a probe answered with an error the breaker does not count (a 429, a 400) closes the
    // circuit too, but would leave the count at the threshold: the next single fault would open it
    // again, for another recovery timeout, where the docs promise `failure_threshold` in a row.
    this.policy.onReset(() => this.counter.success());
    this.policy.onStateChange((state) => {
      const name = stateName(state);
      if (name === 'open') this.openedAt = Date.now();
      if (name) bus?.emit('pipeline.provider.circuit', { provider, state: name });
    });
  }

  private openedAt = 0;

  /**
   * The state as a report should show it: an open breaker whose recovery timeout has passed lets
   * the next call through as its probe, so it is half-open in effect (a gate nobody calls any more
   * would otherwise read open for the life of the process).
   */
  get reportedState(): CircuitStateName {
    const state = this.state;
    return state === 'open' && Date.now() - this.openedAt >= this.recoveryTimeoutMs ? 'half_open' : state;
  }

  /** Provider faults in a row since the last success (the breaker opens at `failureThreshold`). */
  get consecutiveFailures(): number {
    return this.counter.state;
  }

  /** Calls `listener` on every change of state (open, half_open, closed). */
  onStateChange(listener: (state: CircuitStateName) => void): void {
    this.policy.onStateChange((state) => {
      const name = stateName(state);
      if (name) listener(name);
    });
  }

  /**
   * 'open' stays 'open' after the recovery timeout until the next call arrives: that call
   * becomes the half-open probe.
   */
  get state(): CircuitStateName {
    return stateName(this.policy.state) ?? 'open';
  }

  // A promise chain rather than an async function: one suspended frame fewer per call in flight.
  execute<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const state = this.policy.state;
    // The call that finds the circuit open past its recovery time is the probe. A probe stopped
    // before the provider answered (its run cancelled) proves nothing: it must not close the
    // circuit, as cockatiel would — it takes any error its filter does not count for a success.
    const probing = state === CircuitState.Open && Date.now() - this.openedAt >= this.recoveryTimeoutMs;
    const call = probing
      ? () =>
          fn().catch((error: unknown) => {
            throw signal.aborted && !isProviderFault(error) ? new InconclusiveProbe(error) : error;
          })
      : fn;
    let result = this.policy.execute(call, signal);
    // Behind a probe in flight cockatiel waits for it without looking at the signal: a call whose
    // run is cancelled meanwhile leaves at once.
    if (state === CircuitState.HalfOpen) result = raceAbort(this.provider, result, signal);
    return result.catch((error: unknown) => {
      if (error instanceof InconclusiveProbe) throw error.original;
      if (isBrokenCircuitError(error)) {
        const last = this.policy.lastFailure;
        throw new CircuitOpenError(
          this.provider,
          this.recoveryTimeoutMs,
          last && 'error' in last ? last.error : undefined,
        );
      }
      throw error;
    });
  }
}

/** A half-open probe stopped before an answer: counted as a fault (the circuit opens again), thrown as what stopped it. */
class InconclusiveProbe extends Error {
  constructor(readonly original: unknown) {
    super('the half-open probe was stopped before the provider answered');
  }
}

function stateName(state: CircuitState): CircuitStateName | undefined {
  switch (state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.Open:
      return 'open';
    case CircuitState.HalfOpen:
      return 'half_open';
    default:
      return undefined; // Isolated: we never isolate a circuit by hand
  }
}
