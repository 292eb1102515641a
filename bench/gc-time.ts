// Time the garbage collector paused this thread during a piece of work: with hundreds of runs in
// flight most of what they hold outlives a scavenge and is copied, and this is where the time of
// a crowded workload goes (bench/README.md, fifth round). Reported beside the benchmark's figures.
import { PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Runs `work` and returns its result with the GC pauses that fell inside it (ms). */
export async function withGcTime<T>(work: () => Promise<T>): Promise<{ value: T; gcMs: number }> {
  let gcMs = 0;
  let counting = true;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (counting) gcMs += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    const value = await work();
    // GC entries are delivered after the fact: let the last ones in before counting stops.
    await nextTurn();
    counting = false;
    return { value, gcMs };
  } finally {
    observer.disconnect();
  }
}
