// The bulkhead: at most `maxConcurrency` calls in flight to one provider, at most `maxQueue`
// waiting behind them, and a clear rejection beyond that, with the provider's name in it; the
// counts are observable (metrics, /health).
import { ElexirionError } from '../errors.js';
import type { EventBus } from '../telemetry/event-bus.js';
import { abortError } from './abort.js';

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

/** A call waiting for a slot: started when one frees, or gone at once when its run is stopped. */
interface Waiter {
  start(): void;
}

/**
 * Our own, not cockatiel's BulkheadPolicy: there a queued call whose run is cancelled keeps its
 * place, and when it reaches the head it fails and the queue stops moving — the calls of other runs
 * behind it wait for some unrelated call to finish, and cancelled calls fill `max_queue`. Here a
 * cancelled call leaves the queue the moment its signal fires, and a freed slot always goes to the
 * next live call. A counter and a FIFO: nothing else in a bulkhead.
 */
export class ProviderBulkhead {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly provider: string,
    readonly maxConcurrency: number,
    readonly maxQueue: number,
    private readonly bus?: EventBus,
  ) {}

  /** Calls holding a slot right now. */
  get inFlight(): number {
    return this.active;
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `fn` in a slot: now, or after the calls queued before it; never once `signal` has fired. */
  execute<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(abortError(this.provider, signal));
    if (this.active < this.maxConcurrency) return this.run(fn);
    if (this.waiting.length >= this.maxQueue) {
      return Promise.reject(new BulkheadRejectedError(this.provider, this.maxConcurrency, this.maxQueue));
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          signal.removeEventListener('abort', onAbort);
          this.run(fn).then(resolve, reject);
        },
      };
      const onAbort = () => {
        const at = this.waiting.indexOf(waiter);
        if (at !== -1) this.waiting.splice(at, 1);
        reject(abortError(this.provider, signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.bus?.emit('pipeline.provider.queued', this.counts());
    });
  }

  counts(): { provider: string; inFlight: number; queued: number } {
    return { provider: this.provider, inFlight: this.inFlight, queued: this.queued };
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    this.active++;
    let running: Promise<T>;
    try {
      running = fn();
    } catch (error) {
      running = Promise.reject(error);
    }
    return running.finally(this.release);
  }

  private readonly release = (): void => {
    this.active--;
    const next = this.waiting.shift();
    next?.start();
  };
}
