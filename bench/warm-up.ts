// How many rounds a benchmark runs before it measures. V8 optimizes a function once it has run
// enough of its bytecode — a count of work, not a time — and re-optimizes it after each deopt, so
// the engine's path keeps getting faster over its first few thousand steps or items: a 500-step
// chain ran its rounds at 124, 123, 92, 65, 46, 42 … µs per step, and a 2,000-item fan-out at 462,
// 448, 439, 435, 425 ms (bench/README.md, twelfth round). One warm-up round measured that climb, not
// the engine. The benchmarks therefore warm up by a count, the same on any machine, and report the
// process's first round beside the measured ones: that is what a one-off `elexirion run` meets.

/** Runs `round` `count` times and returns the first result: the cold one. */
export async function warmUp<T>(count: number, round: () => Promise<T>): Promise<T> {
  const first = await round();
  for (let i = 1; i < count; i++) await round();
  return first;
}
