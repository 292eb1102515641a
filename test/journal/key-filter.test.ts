import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyFilter } from '../../src/journal/key-filter.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('KeyFilter', () => {
  it('never says "absent" for a key it was given, hex or not', () => {
    const filter = new KeyFilter(20_000);
    const keys = [...Array.from({ length: 20_000 }, (_, i) => sha(`k${i}`)), 'x', '', 'key-forever', 'ü∂'];
    for (const key of keys) filter.add(key);
    expect(keys.filter((key) => !filter.mayHave(key))).toEqual([]);
  });

  it('says "absent" for nearly every other key while within its size', () => {
    const filter = new KeyFilter(20_000);
    for (let i = 0; i < 20_000; i++) filter.add(sha(`k${i}`));
    expect(filter.full).toBe(false);
    const falsePresent = Array.from({ length: 20_000 }, (_, i) => sha(`other${i}`)).filter((k) => filter.mayHave(k));
    // 12 bits per key and 4 probes: ~0.6 % in theory; fewer bits here than it was sized for.
    expect(falsePresent.length).toBeLessThan(200);
    expect(new KeyFilter().mayHave(sha('anything'))).toBe(false);
  });

  it('says when it holds more keys than it was sized for', () => {
    const filter = new KeyFilter(0);
    let added = 0;
    while (!filter.full) filter.add(sha(`k${added++}`));
    // The smallest filter (65,536 bits) is full past 65,536 / 12 keys.
    expect(added).toBe(Math.floor(65_536 / 12) + 1);
  });
});
