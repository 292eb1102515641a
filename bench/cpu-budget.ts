// What a latency-bound target asks of the engine's thread, measured on the machine at hand: the
// bare-Node workload is run again with a busy spin of N µs per unit of work (an item, a step), and
// the largest N at which it still reaches the target is the budget. Timers due in the same
// millisecond fire together, so each unit's work delays the others of its wave: a budget is far
// smaller than "latency × parallelism / units" suggests (bench/README.md, sixth round).

/** Holds the thread for `us` microseconds: the stand-in for an engine's work per unit. */
export function spin(us: number): void {
  if (us <= 0) return;
  const end = performance.now() + us / 1000;
  while (performance.now() < end) {
    // busy: the point is to hold the thread
  }
}

/**
 * The largest spin (µs per unit, from `candidates`, ascending) at which `efficiency(spinUs)` — the
 * best of `rounds` — still reaches `target`; 0 when even the first misses it.
 */
export async function cpuBudget(
  efficiency: (spinUs: number) => Promise<number>,
  target: number,
  candidates: readonly number[],
  rounds = 2,
): Promise<number> {
  let budget = 0;
  for (const us of candidates) {
    let best = 0;
    for (let i = 0; i < rounds; i++) best = Math.max(best, await efficiency(us));
    if (best < target) break;
    budget = us;
  }
  return budget;
}

/** Milliseconds the event loop was busy (not waiting for I/O or timers) during `work`: JS, GC, native calls. */
export async function withBusyTime<T>(work: () => Promise<T>): Promise<{ value: T; busyMs: number }> {
  const start = performance.eventLoopUtilization();
  const value = await work();
  return { value, busyMs: performance.eventLoopUtilization(start).active };
}
