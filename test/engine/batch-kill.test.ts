// A batch killed with SIGKILL half-way, then resumed: the journal decides what runs again. Every
// item is called exactly once over both attempts, except those the kill caught between their call
// and their commit (in flight, or finished in the last turn before the kill).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { calls, launch } from './kill-child.js';

const dir = mkdtempSync(join(tmpdir(), 'elexirion-kill-'));
const ITEMS = 120;
const MAX_PARALLEL = 6;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a batch killed with SIGKILL', () => {
  it('resumes and calls only the items the journal does not have', { timeout: 60_000 }, async () => {
    const db = join(dir, 'journal.db');
    const pipeline = join(dir, 'batch.yaml');
    const items = Array.from({ length: ITEMS }, (_, i) => `item-${i}`);
    writeFileSync(
      pipeline,
      JSON.stringify({
        name: 'killme',
        inputs: { things: { type: 'array', default: items } },
        steps: [
          {
            name: 'each',
            type: 'batch',
            items: '{{ things }}',
            max_parallel: MAX_PARALLEL,
            step_template: { type: 'mock', prompt: 'call {{ item }}', latency: '15ms' },
          },
        ],
        outputs: { all: '{{ steps.each.output }}' },
      }),
    );
    const firstCalls = join(dir, 'calls-1.txt');
    writeFileSync(firstCalls, '');
    const first = launch(['start', db, pipeline, firstCalls]);
    const runId = await first.runId;

    const reader = new SqliteStore(db);
    while ((await reader.countItems(runId, 'each')).succeeded < ITEMS / 3) await new Promise((r) => setTimeout(r, 5));
    first.proc.kill('SIGKILL');
    expect(await first.exit).toBeNull(); // killed, not finished
    // What the dead process made durable: what a journal opened now finds (its write-ahead log applied).
    const afterKill = new SqliteStore(db);
    const journaled = new Set((await afterKill.getItems(runId, 'each')).map((i) => `call item-${i.index}`));
    await afterKill.close();
    expect(journaled.size).toBeGreaterThanOrEqual(ITEMS / 3);
    expect(journaled.size).toBeLessThan(ITEMS);

    const secondCalls = join(dir, 'calls-2.txt');
    writeFileSync(secondCalls, '');
    const second = launch(['resume', db, runId, secondCalls]);
    expect(await second.exit).toBe(0);
    const run = await reader.getRun(runId);
    expect(run?.status).toBe('succeeded');
    expect(run?.outputs?.all).toHaveLength(ITEMS);

    const before = calls(firstCalls);
    const after = calls(secondCalls);
    // The resume never called a journaled item, and called every other item exactly once.
    for (const call of after) expect(journaled.has(call)).toBe(false);
    expect(new Set(after).size).toBe(after.length);
    expect(after.length).toBe(ITEMS - journaled.size);
    // Paid twice: only the items the kill caught between call and commit.
    const twice = after.filter((call) => before.includes(call));
    expect(twice.length).toBeLessThanOrEqual(2 * MAX_PARALLEL);
    expect(new Set([...before, ...after]).size).toBe(ITEMS);
    await reader.close();
  });
});
