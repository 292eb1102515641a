import { DURATION_PATTERN } from './schema.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

// Durations are read on every step and batch item (timeouts, mock latency) and a pipeline has few
// distinct ones: each is parsed once. Bounded, since a duration can come from a template.
const parsed = new Map<string, number>();
const MAX_PARSED = 1_000;

/** Milliseconds of a duration as the format writes it (`250ms`, `30s`, `5m`, `1h`, or a number of ms). */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  const known = parsed.get(value);
  if (known !== undefined) return known;
  if (!DURATION_PATTERN.test(value)) throw new Error(`not a duration: ${JSON.stringify(value)}`);
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value) as RegExpExecArray;
  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
  if (parsed.size >= MAX_PARSED) parsed.clear();
  parsed.set(value, ms);
  return ms;
}
