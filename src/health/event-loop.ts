// Event-loop lag: how late a timer fires. A loop blocked by a synchronous hot path delays every
// request and every provider call of the process, so it is the first sign of an overloaded service.
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopLag {
  meanMs: number;
  p99Ms: number;
  maxMs: number;
}

/** How long a window of `recent()` lasts: a lag is reported for one to two of them. */
export const LAG_WINDOW_MS = 10_000;

export class EventLoopMonitor {
  private readonly histogram: IntervalHistogram;
  private windowStart = performance.now();
  private previous: EventLoopLag | undefined;

  constructor(
    resolutionMs = 10,
    private readonly windowMs = LAG_WINDOW_MS,
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
  }

  /**
   * The lag since the last reset (the histogram is in nanoseconds). For one reader only (a
   * heartbeat): each call starts the next interval. Not to be mixed with `recent()` on one monitor.
   */
  sample(reset = true): EventLoopLag {
    const lag = this.read();
    if (reset) this.histogram.reset();
    return lag;
  }

  /**
   * The lag of the current window and the one before it, the worse of the two, field by field —
   * for any number of readers. A health probe must not reset what the next probe sees: with the
   * load balancer, a liveness probe and each open dashboard (every 3 s) asking, a lag would be
   * reported only to whichever asked first, and hidden from the rest.
   */
  recent(): EventLoopLag {
    const now = performance.now();
    if (now - this.windowStart >= this.windowMs) {
      this.previous = this.read();
      this.histogram.reset();
      this.windowStart = now;
    }
    const current = this.read();
    const previous = this.previous;
    if (!previous) return current;
    return {
      meanMs: Math.max(previous.meanMs, current.meanMs),
      p99Ms: Math.max(previous.p99Ms, current.p99Ms),
      maxMs: Math.max(previous.maxMs, current.maxMs),
    };
  }

  stop(): void {
    this.histogram.disable();
  }

  private read(): EventLoopLag {
    const h = this.histogram;
    const ms = (ns: number) => (Number.isFinite(ns) ? Math.round(ns / 1e4) / 100 : 0);
    return { meanMs: ms(h.mean), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) };
  }
}
