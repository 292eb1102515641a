import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { deadPid, journalRunningRun } from '../engine/orphaned-run-fixture.js';
import { runMain } from './run-main.js';

const KILLED = '01KILLED000000000000000000';

/** The pid of a process that has ended. */

/** A journal with one run left `running` by a process that is gone, one step of it finished. */
async function killedRunJournal(): Promise<string> {
  const db = join(mkdtempSync(join(tmpdir(), 'elexirion-show-once-')), 'j.db');
  const store = new SqliteStore(db);
  await journalRunningRun(store, KILLED, { pid: deadPid(), host: hostname() }, Date.now());
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
