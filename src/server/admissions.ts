// The runs a server starts (submissions and resumes), as seen by its shutdown. A submission is
// asynchronous — its run is journaled before it is supervised — so a shutdown that merely stopped
// the active runs would miss one under way: its run would start after `stopAll`, outside the drain,
// and the connection carrying its 202 would be cut. So a shutdown first closes the door (503 from
// then on), waits for the starts under way, and only then interrupts every active run.
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpError } from './http-error.js';

export class Admissions {
  private closing = false;
  private readonly starting = new Set<Promise<unknown>>();

  /** Runs `start` (which starts or enqueues a run) unless the server is shutting down: then a 503. */
  async admit<T>(start: () => Promise<T>): Promise<T> {
    if (this.closing) {
      throw new HttpError(
        503,
        'the server is shutting down: it starts no new runs',
        'send the request again once the server is back (or to another instance)',
      );
    }
    const started = start();
    this.starting.add(started);
    try {
      return await started;
    } finally {
      this.starting.delete(started);
    }
  }

  /** Refuses every later start; resolves once the starts under way have settled, or after `timeoutMs`. */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    if (this.starting.size === 0) return;
    const timer = new AbortController();
    try {
      await Promise.race([
        Promise.allSettled([...this.starting]),
        sleep(Math.max(0, timeoutMs), undefined, { signal: timer.signal }).catch(() => {}),
      ]);
    } finally {
      timer.abort(); // the timer must not keep the process alive
    }
  }
}
