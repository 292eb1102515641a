// Run and execution ids are drawn from one pool of OS randomness, refilled 4 KB at a time: ids made
// across a refill must stay well-formed and distinct (an off-by-one there would repeat bytes).
import { describe, expect, it } from 'vitest';
import { newExecutionId, newRunId, normalizeRunId } from '../../src/engine/run-id.js';

describe('ids from the pooled randomness', () => {
  it('gives distinct 8-character base64url execution ids across many refills of the pool', () => {
    const ids = new Set<string>();
    // 6 bytes each: 5,000 ids draw 30,000 bytes, seven refills; run ids drawn between them too.
    for (let i = 0; i < 5_000; i++) {
      const id = newExecutionId();
      expect(id).toMatch(/^[A-Za-z0-9_-]{8}$/);
      ids.add(id);
      if (i % 7 === 0) newRunId();
    }
    expect(ids.size).toBe(5_000);
  });

  it('gives distinct ULID run ids', () => {
    const ids = new Set(Array.from({ length: 2_000 }, () => newRunId()));
    expect(ids.size).toBe(2_000);
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('reads a run id in either case; anything that is no ULID as given', () => {
    const id = newRunId();
    expect(normalizeRunId(id.toLowerCase())).toBe(id);
    expect(normalizeRunId(id)).toBe(id);
    expect(normalizeRunId('my-run')).toBe('my-run');
    expect(normalizeRunId(`${id.toLowerCase()}x`)).toBe(`${id.toLowerCase()}x`);
  });
});
