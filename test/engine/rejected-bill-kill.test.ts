// A step's answer the call loop rejects (a structured answer failing its schema) is paid for but
// never cached. A process killed after paying for it, before the step is journaled, must not lose
// that bill: the resumed step makes the same call, finds the bill kept under its key, counts it as
// paid — in the step's record, the run's totals and its budget, exactly once — and asks the
// provider again (a rejected answer is never served). Also after a second crash, and when a failed
// record of the step already carries it.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import type { RunResult } from '../../src/engine/run-result.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { step, tempDir } from './harness.js';
import { ENV, PIPELINE, scriptedProvider, type Turn } from './rejected-bill-provider.js';

const CHILD = join(import.meta.dirname, 'rejected-bill-child.ts');

const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

const lines = (file: string): string[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];

/**
 * Runs the child (`start` a pipeline file, or `resume` a run) with a provider following `script`,
 * and kills it with SIGKILL once it has made `calls` calls — the last one hangs: what came before
 * it is paid, and the step is not journaled. Resolves with the run's id.
 */
async function killedAfter(args: string[], script: Turn[], calls: number, dir: string, n: number): Promise<string> {
  const log = join(dir, `calls-${n}.txt`);
  writeFileSync(log, '');
  const [mode, db, target, ...rest] = args as [string, string, string, ...string[]];
  const proc: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, mode, db, target, log, script.join(','), ...rest],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  for (let i = 0; i < 600 && lines(log).length < calls; i++) await sleep(25);
  expect(lines(log), 'the child never made its calls').toHaveLength(calls);
  const runId = /run (\S+)\n/.exec(out)?.[1];
  proc.kill('SIGKILL');
  await exited;
  expect(runId).toBeDefined();
  return runId as string;
}

/** Resumes the run in this process (a journal opened now applies what the dead process logged). */
async function resume(db: string, runId: string, script: Turn[], maxCostUsd?: number) {
  const store = new SqliteStore(db);
  stores.push(store);
  const provider = scriptedProvider(script);
  const engine = new Engine({ store, env: ENV, providerFactories: { openai: () => provider } as never });
  const handle = await engine.resume(runId, maxCostUsd === undefined ? {} : { maxCostUsd });
  const result: RunResult = await handle.result;
  return { result, provider, store };
}

/** A run whose first process paid for a's rejected answer, then was killed in a's repair call. */
async function killedRun(): Promise<{ db: string; runId: string; dir: string }> {
  const dir = tempDir();
  const db = join(dir, 'journal.db');
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(file, PIPELINE);
  const runId = await killedAfter(['start', db, file], ['invalid', 'hang'], 2, dir, 1);
  return { db, runId, dir };
}

describe('a rejected answer paid before a SIGKILL', () => {
  it('is the resumed step’s bill and the budget’s, once; the provider is asked again', {
    timeout: 60_000,
  }, async () => {
    const { db, runId } = await killedRun();

    // The resumed a asks again (its answer valid now) and counts the $0.01 its killed execution
    // paid for the rejected answer: $0.02 spent, and b's call no longer fits the $0.015 budget.
    const { result, provider } = await resume(db, runId, ['valid', 'valid']);
    expect(provider.calls).toBe(1);
    expect(result.status).toBe('failed');
    expect(result.failed_step).toBe('b');
    expect(result.error).toMatch(/spent \$0\.02 of max_cost_usd/);
    expect(step(result, 'a')).toMatchObject({ status: 'succeeded', cost_usd: 0.02 });
    expect(result.totals).toMatchObject({ cost_usd: 0.02, calls: 2, cache_hits: 0, cost_saved_usd: 0 });

    // A later resume reads that bill from a's journaled record: once, not once more.
    const done = await resume(db, runId, ['valid'], 0.05);
    expect(done.provider.calls).toBe(1); // b only
    expect(done.result.status).toBe('succeeded');
    expect(done.result.totals).toMatchObject({ cost_usd: 0.03, calls: 3, cache_hits: 0 });
  });

  it('and a second crash: each killed execution’s rejected answer is counted once', { timeout: 60_000 }, async () => {
    const { db, runId, dir } = await killedRun();
    // The second execution counts the first's bill, pays for its own rejected answer, and is killed
    // in its repair call too: neither bill is journaled.
    await killedAfter(['resume', db, runId, '1'], ['invalid', 'hang'], 2, dir, 2);

    const { result, provider } = await resume(db, runId, ['valid', 'valid'], 1);
    expect(provider.calls).toBe(2); // a asked again, then b
    expect(result.status).toBe('succeeded');
    expect(step(result, 'a')).toMatchObject({ cost_usd: 0.03 });
    expect(result.totals).toMatchObject({ cost_usd: 0.04, calls: 4, cache_hits: 0 });
  });

  it('is not counted again once a failed record of the step carries it', { timeout: 60_000 }, async () => {
    const { db, runId } = await killedRun();
    // The resumed a counts the killed execution's bill, and fails: its two answers are rejected.
    // Its failed record carries the three answers, and says whose they were.
    const failed = await resume(db, runId, ['invalid', 'invalid'], 1);
    expect(failed.provider.calls).toBe(2);
    expect(failed.result.status).toBe('failed');
    expect(failed.result.failed_step).toBe('a');
    expect(failed.result.totals).toMatchObject({ cost_usd: 0.03, calls: 3 });

    // The next resume finds both executions' bills under a's first call, and counts neither.
    const { result, provider } = await resume(db, runId, ['valid', 'valid'], 1);
    expect(provider.calls).toBe(2);
    expect(result.status).toBe('succeeded');
    expect(step(result, 'a')).toMatchObject({ cost_usd: 0.04 });
    expect(result.totals).toMatchObject({ cost_usd: 0.05, calls: 5, cache_hits: 0 });
  });
});
