// `runs show` of a run whose process was killed ends it `interrupted` (orphaned-runs.ts), which
// reads the run's steps and batch items to total them — and the report needs the same rows. It
// read them two or three times; once is enough.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { emptyTotals } from '../../src/journal/store.js';
import { runMain } from './run-main.js';

const KILLED = '01KILLED000000000000000000';

/** The pid of a process that has ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

/** A journal with one run left `running` by a process that is gone, one step of it finished. */
async function killedRunJournal(): Promise<string> {
  const db = join(mkdtempSync(join(tmpdir(), 'elexirion-show-once-')), 'j.db');
  const store = new SqliteStore(db);
  const at = Date.now();
  await store.createRun({
    id: KILLED,
    pipelineName: 'p',
    pipelineHash: 'h',
    pipeline: { name: 'p', steps: [{ name: 'a', type: 'mock', prompt: 'hi' }] },
    inputs: {},
    status: 'running',
    startedAt: at - 1_000,
    totals: emptyTotals(),
    metadata: { pid: deadPid(), host: hostname() },
  });
  await store.commitStep(
    {
      runId: KILLED,
      key: 'a',
      name: 'a',
      type: 'mock',
      status: 'succeeded',
      output: 'x',
      usage: { inputTokens: 3, outputTokens: 4 },
      costUsd: 0,
      durationMs: 1,
      attempts: 1,
      startedAt: at - 1,
      finishedAt: at,
    },
    [],
  );
  await store.close();
  return db;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('runs show of a killed run', () => {
  for (const json of [false, true]) {
    it(`reads its steps and item totals once${json ? ' (--json)' : ''}`, async () => {
      const db = await killedRunJournal();
      const steps = vi.spyOn(SqliteStore.prototype, 'getSteps');
      const items = vi.spyOn(SqliteStore.prototype, 'itemTotals');
      const shown = await runMain(['runs', 'show', KILLED, '--db', db, ...(json ? ['--json'] : [])]);
      expect(shown.code, shown.stderr).toBe(0);
      // Ended as it is shown, with its totals so far.
      if (json) expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'interrupted', totals: { input_tokens: 3 } });
      else expect(shown.stdout).toContain('ended before the run did');
      expect(steps).toHaveBeenCalledTimes(1);
      expect(items).toHaveBeenCalledTimes(1);
    });
  }
});
