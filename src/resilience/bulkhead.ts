// The bulkhead: at most `maxConcurrency` calls in flight to one provider, at most `maxQueue`
// waiting behind them, and a clear rejection beyond that. Built on cockatiel's BulkheadPolicy;
// this file adds the provider's name to the error and makes the counts observable.
import { BulkheadPolicy, isBulkheadRejectedError, isTaskCancelledError } from 'cockatiel';
import { ElexirionError } from '../errors.js';
import type { EventBus } from '../telemetry/event-bus.js';
import { abortError, raceAbort } from './abort.js';

export class BulkheadRejectedError extends ElexirionError {
  readonly provider: string;
  constructor(provider: string, maxConcurrency: number, maxQueue: number) {
    super(
      `${provider}: too many calls waiting — ${maxConcurrency} in flight (max_concurrency) and ${maxQueue} queued (max_queue)`,
      {
        hint: `raise providers.${provider}.max_queue or max_concurrency, or lower the fan-out (batch concurrency) of the pipeline`,
      },
    );
    this.provider = provider;
  }
}

export class ProviderBulkhead {
  private readonly policy: BulkheadPolicy;

  constructor(
    readonly provider: string,
    readonly maxConcurrency: number,
    readonly maxQueue: number,
    private readonly bus?: EventBus,
  ) {
    this.policy = new BulkheadPolicy(maxConcurrency, maxQueue);
  }

  /** Calls holding a slot right now. */
  get inFlight(): number {
    return this.maxConcurrency - this.policy.executionSlots;
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.maxQueue - this.policy.queueSlots;
  }

  // A promise chain rather than an async function: one suspended frame fewer per call in flight.
  execute<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const willQueue = this.policy.executionSlots === 0 && this.policy.queueSlots > 0;
    let running = this.policy.execute(fn, signal);
    if (willQueue) {
      this.bus?.emit('pipeline.provider.queued', this.counts());
      // cockatiel looks at the signal of a queued call only when its turn comes: a cancelled run
      // must not wait that long. The abandoned call finds the signal aborted at its turn and stops.
      running = raceAbort(this.provider, running, signal);
    }
    return running.catch((error: unknown) => {
      if (isBulkheadRejectedError(error))
        throw new BulkheadRejectedError(this.provider, this.maxConcurrency, this.maxQueue);
      // A queued call whose run was cancelled before its turn came.
      if (isTaskCancelledError(error) && signal.aborted) throw abortError(this.provider, signal);
      throw error;
    });
  }

  counts(): { provider: string; inFlight: number; queued: number } {
    return { provider: this.provider, inFlight: this.inFlight, queued: this.queued };
  }
}
