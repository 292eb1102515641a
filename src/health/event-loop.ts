// Event-loop lag: how late a timer fires. A loop blocked by a synchronous hot path delays every
// request and every provider call of the process, so it is the first sign of an overloaded service.
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopLag {
  meanMs: number;
  p99Ms: number;
  maxMs: number;
}

export class EventLoopMonitor {
  private readonly histogram: IntervalHistogram;

  constructor(resolutionMs = 10) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
  }

  /** The lag since the last reset (the histogram is in nanoseconds). */
  sample(reset = true): EventLoopLag {
    const h = this.histogram;
    const ms = (ns: number) => (Number.isFinite(ns) ? Math.round(ns / 1e4) / 100 : 0);
    const lag = { meanMs: ms(h.mean), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) };
    if (reset) h.reset();
    return lag;
  }

  stop(): void {
    this.histogram.disable();
  }
}
