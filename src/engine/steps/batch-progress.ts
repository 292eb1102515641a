// Progress of a batch as `pipeline.step.progress` events: done/failed/total and an ETA, at most
// every PROGRESS_INTERVAL_MS (a 100,000-item batch must not emit 100,000 events), and once at the end.
import type { RunContext } from '../run-context.js';

export const PROGRESS_INTERVAL_MS = 250;

export class BatchProgress {
  private done: number;
  private failed = 0;
  private lastEmit = 0;
  /** The counts of the last event (`end` does not repeat them). */
  private emittedDone = -1;
  private emittedFailed = -1;
  private readonly startedAt = performance.now();
  private readonly startDone: number;

  constructor(
    private readonly run: RunContext,
    private readonly step: string,
    private readonly total: number,
    alreadyDone: number,
  ) {
    this.done = alreadyDone;
    this.startDone = alreadyDone;
    this.emit();
  }

  finished(failed: boolean): void {
    this.done++;
    if (failed) this.failed++;
    if (performance.now() - this.lastEmit >= PROGRESS_INTERVAL_MS) this.emit();
  }

  /** Counts measured elsewhere (a cluster's workers, read from the journal). */
  set(done: number, failed: number): void {
    this.done = done;
    this.failed = failed;
    if (performance.now() - this.lastEmit >= PROGRESS_INTERVAL_MS) this.emit();
  }

  /**
   * The final count — unless the last event already said it: a batch of no items, one whose items
   * were all in the journal, or one whose last item was just reported would repeat its line
   * (`0/0` twice on the CLI).
   */
  end(): void {
    if (this.done !== this.emittedDone || this.failed !== this.emittedFailed) this.emit();
  }

  private emit(): void {
    const now = performance.now();
    this.lastEmit = now;
    this.emittedDone = this.done;
    this.emittedFailed = this.failed;
    const ranHere = this.done - this.startDone;
    const eta = ranHere > 0 ? Math.round(((now - this.startedAt) / ranHere) * (this.total - this.done)) : undefined;
    this.run.services.bus.emit('pipeline.step.progress', {
      runId: this.run.id,
      step: this.step,
      done: this.done,
      failed: this.failed,
      total: this.total,
      ...(eta === undefined ? {} : { etaMs: eta }),
    });
  }
}
