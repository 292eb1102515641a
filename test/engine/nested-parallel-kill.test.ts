// A run killed with SIGKILL inside a nested pipeline that runs inside a parallel group, then resumed
// (docs/composition.md, "Resume, in one table"): every child step and sibling the journal has as
// finished is taken from it, never called again; the rest run once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { calls, launch } from './kill-child.js';

const dir = mkdtempSync(join(tmpdir(), 'elexirion-nested-kill-'));
const CHILD_STEPS = 8;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a run killed inside a nested pipeline inside a parallel group', () => {
  it('resumes without calling any finished child step or sibling again', { timeout: 60_000 }, async () => {
    const db = join(dir, 'journal.db');
    writeFileSync(
      join(dir, 'child.yaml'),
      JSON.stringify({
        name: 'child',
        inputs: { topic: { type: 'string', required: true } },
        steps: Array.from({ length: CHILD_STEPS }, (_, i) => ({
          name: `c${i}`,
          type: 'mock',
          prompt: `child ${i} {{ topic }}`,
          latency: '60ms',
        })),
        outputs: { last: `{{ steps.c${CHILD_STEPS - 1}.output }}` },
      }),
    );
    const pipeline = join(dir, 'parent.yaml');
    writeFileSync(
      pipeline,
      JSON.stringify({
        name: 'parent',
        steps: [
          {
            name: 'group',
            type: 'parallel',
            steps: [
              { name: 'sub', type: 'pipeline', file: 'child.yaml', inputs: { topic: 'otters' } },
              { name: 'side', type: 'mock', prompt: 'side', latency: '10ms' },
            ],
          },
          { name: 'after', type: 'mock', prompt: 'after {{ steps.sub.output.last }} {{ steps.side.output }}' },
        ],
        outputs: { last: '{{ steps.sub.output.last }}' },
      }),
    );
    const firstCalls = join(dir, 'calls-1.txt');
    writeFileSync(firstCalls, '');
    const first = launch(['start', db, pipeline, firstCalls]);
    const runId = await first.runId;

    const reader = new SqliteStore(db);
    const finished = async () =>
      (await reader.getSteps(runId)).filter((s) => s.status === 'succeeded').map((s) => s.key);
    while (!(await finished()).includes('sub/c3')) await new Promise((r) => setTimeout(r, 5));
    first.proc.kill('SIGKILL');
    expect(await first.exit).toBeNull();
    const afterKill = new SqliteStore(db);
    const journaled = (await afterKill.getSteps(runId)).filter((s) => s.status === 'succeeded').map((s) => s.key);
    await afterKill.close();
    expect(journaled).toContain('side');
    expect(journaled).not.toContain('group');
    expect(journaled).not.toContain(`sub/c${CHILD_STEPS - 1}`);

    const secondCalls = join(dir, 'calls-2.txt');
    writeFileSync(secondCalls, '');
    const second = launch(['resume', db, runId, secondCalls]);
    expect(await second.exit).toBe(0);
    const run = await reader.getRun(runId);
    expect(run?.status).toBe('succeeded');
    expect(String(run?.outputs?.last)).toContain(`child ${CHILD_STEPS - 1} otters`);

    const promptOf = (key: string) => (key === 'side' ? 'side' : `child ${key.slice('sub/c'.length)} otters`);
    const after = calls(secondCalls);
    for (const key of journaled) expect(after).not.toContain(promptOf(key));
    // Every child step ran, and the resume called each one the journal lacked exactly once.
    const missing = Array.from({ length: CHILD_STEPS }, (_, i) => `sub/c${i}`).filter((k) => !journaled.includes(k));
    for (const key of missing) expect(after.filter((c) => c === promptOf(key))).toHaveLength(1);
    expect(after.filter((c) => c.startsWith('after '))).toHaveLength(1);
    await reader.close();
  });
});
