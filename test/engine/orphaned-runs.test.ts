import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { startService } from '../../src/server/service.js';
import { runMain } from '../cli/run-main.js';
import { tempDir } from './harness.js';
import { deadPid, journalRunningRun } from './orphaned-run-fixture.js';

/** The pid of a process that has ended (a child run to its end). */

const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

/** A journal holding a run `running` owned as `owner` says, with one step finished at `stepAt`. */
async function journalWith(runs: Record<string, Record<string, unknown>>, stepAt: number) {
  const db = join(tempDir(), 'j.db');
  const store = new SqliteStore(db);
  stores.push(store);
  for (const [id, owner] of Object.entries(runs)) {
    await journalRunningRun(store, id, owner, stepAt);
  }
  return { db, store };
}

const KILLED = '01KILLED000000000000000000';
const ALIVE = '01ALIVE0000000000000000000';
const ELSEWHERE = '01ELSEWHERE000000000000000';
const CLUSTER = '01CLUSTER00000000000000000';

describe('a run whose process was killed', () => {
  it('is ended interrupted by `elexirion runs`, saying why; runs whose owner may live stay running', async () => {
    const dead = deadPid();
    const stepAt = Date.now() - 60_000;
    const { db } = await journalWith(
      {
        [KILLED]: { pid: dead, host: hostname() },
        // Its parent, the test runner's process, lives.
        [ALIVE]: { pid: process.ppid, host: hostname() },
        [ELSEWHERE]: { pid: dead, host: `not-${hostname()}` },
        [CLUSTER]: { pid: dead, host: hostname(), cluster: { prefix: 'x' } },
      },
      stepAt,
    );
    const listed = await runMain(['runs', '--json', '--db', db]);
    expect(listed.code, listed.stderr).toBe(0);
    const status = Object.fromEntries(
      (JSON.parse(listed.stdout) as { id: string; status: string; duration_ms: number | null }[]).map((r) => [r.id, r]),
    );
    expect(status[KILLED]).toMatchObject({ status: 'interrupted', duration_ms: 1_000 });
    for (const id of [ALIVE, ELSEWHERE, CLUSTER]) expect(status[id]?.status, id).toBe('running');

    const shown = await runMain(['runs', 'show', KILLED, '--db', db], { env: { NO_COLOR: '1' } });
    expect(shown.stdout).toContain(`interrupted: its process (pid ${dead} on ${hostname()}) ended before the run did`);
    expect(shown.stdout).toContain(`elexirion resume ${KILLED}`);
  });

  it('is ended by `runs show` alone, and resumes from there', async () => {
    const { db, store } = await journalWith({ [KILLED]: { pid: deadPid(), host: hostname() } }, Date.now());
    const shown = await runMain(['runs', 'show', KILLED, '--json', '--db', db]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'interrupted', totals: { input_tokens: 3 } });
    const resumed = await runMain(['resume', KILLED, '--json', '--db', db]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'succeeded' });
    expect((await store.getRun(KILLED))?.status).toBe('succeeded');
  });

  it('is ended by `serve` as it starts', async () => {
    const { store } = await journalWith(
      { [KILLED]: { pid: deadPid(), host: hostname() }, [ALIVE]: { pid: process.ppid, host: hostname() } },
      Date.now(),
    );
    const service = await startService({ store, root: tempDir(), port: 0, env: {} });
    try {
      // In the background, once it listens (server/orphan-sweeps.ts): soon, not before startService resolves.
      await vi.waitFor(async () => expect((await store.getRun(KILLED))?.status).toBe('interrupted'), { timeout: 5000 });
      expect((await store.getRun(ALIVE))?.status).toBe('running');
    } finally {
      await service.shutdown(1000);
    }
  });
});
