// Run ids: ULIDs (sortable by creation time, 80 random bits). The ulid package draws each of the
// 16 random characters with its own `crypto.getRandomValues` call — ~10 µs per id, measured as
// 4 % of the many-runs benchmark. The same randomness, drawn from the OS 4 KB at a time: ~0.3 µs.
import { randomFillSync } from 'node:crypto';
import { ulid } from 'ulid';

const pool = new Uint8Array(4096);
let next = pool.length;

/** ulid's PRNG contract: a number in [0, 1). */
function pooledRandom(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return (pool[next++] as number) / 256;
}

export function newRunId(): string {
  return ulid(undefined, pooledRandom);
}

const EXECUTION_BYTES = 6;

/**
 * An execution's id (RunContext.execution): 48 random bits in base64url, from the same pool —
 * `randomBytes` cost ~4 % of a many-runs benchmark of one-step runs (a job object and a call into
 * the OS per run).
 */
export function newExecutionId(): string {
  if (next + EXECUTION_BYTES > pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const id = Buffer.from(pool.buffer, next, EXECUTION_BYTES).toString('base64url');
  next += EXECUTION_BYTES;
  return id;
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;

/**
 * A run id as a person typed or copied it: ids are ULIDs, written in upper case, and Crockford's
 * base32 reads either case alike — so `runs show 01m8…` (a lowercased copy, a shell completion, a
 * URL) finds the run rather than saying there is none. Anything else as given (the journal says).
 */
export function normalizeRunId(value: string): string {
  return ULID.test(value) ? value.toUpperCase() : value;
}
