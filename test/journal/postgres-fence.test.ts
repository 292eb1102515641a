// The fence on PostgreSQL (run-fence.ts): the claim a run holds is a column of its own (filled in
// from the metadata of the runs already journaled), and checking it holds no lock across round trips
// — a process frozen in the middle of a write cannot keep another from claiming the run.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { journalAway } from '../../src/cluster/journal-away.js';
import { ElexirionError, ExitCode } from '../../src/errors.js';
import { poolConfig } from '../../src/journal/postgres-connection.js';
import { POSTGRES_MIGRATIONS } from '../../src/journal/postgres-migrations.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { claimOf, RunTakenOverError } from '../../src/journal/run-fence.js';
import type { ItemRecord } from '../../src/journal/store.js';
import { adminQuery, dropSchema, TEST_POSTGRES_URL, uniqueSchema } from './postgres-harness.js';
import { sampleRun, sampleStep } from './store-conformance.js';

const schema = uniqueSchema('elexirion_fence');
const schemas = [schema];
const open = (s = schema, options = {}) => new PostgresStore(TEST_POSTGRES_URL, { schema: s, max: 4, ...options });

afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

const item = (runId: string, index: number): ItemRecord => ({
  runId,
  stepKey: 'batch',
  index,
  status: 'succeeded',
  output: index,
  usage: { inputTokens: 1, outputTokens: 1 },
  costUsd: 0,
  attempts: 1,
  durationMs: 1,
});

/** `promise`'s outcome, or 'still waiting' after `ms`. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | 'still waiting'> {
  return Promise.race([promise, sleep(ms).then(() => 'still waiting' as const)]);
}

describe('the claim a run holds, in a column of its own', () => {
  it('is filled in from the metadata of the runs a journal held before, readable by json operators or not', async () => {
    const older = uniqueSchema('elexirion_v4');
    schemas.push(older);
    // A journal at version 4, as the Elexirion that read the claim out of the metadata left it.
    await adminQuery(
      `CREATE SCHEMA ${older}; SET search_path = ${older};
       CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);
       ${POSTGRES_MIGRATIONS.slice(0, 4).join(';')};
       INSERT INTO schema_version VALUES (1, 0), (2, 0), (3, 0), (4, 0)`,
    );
    const metadata: Array<[Record<string, unknown>, number]> = [
      [{ mock: true, resumes: 3 }, 3],
      [{ note: 'a\u0000b', resumes: 2 }, 2], // ->> fails: "unsupported Unicode escape sequence"
      [{ note: 'x\ud800', nested: { resumes: 9 }, resumes: 5 }, 5], // ->> fails: invalid json
      [{ mock: true }, 0],
      [{ resumes: '4' }, 4],
      [{ note: '\\u0000 is text', resumes: 1 }, 1],
      [{ note: '\\\u0000', resumes: 6 }, 6],
      [{ 'n\u0000': 1, resumes: 8 }, 8],
    ];
    const runs = metadata.map(([m]) => sampleRun({ metadata: m }));
    for (const run of runs) {
      await adminQuery(
        `INSERT INTO ${older}.runs (id, pipeline_name, pipeline_hash, pipeline, inputs, status, started_at, totals, metadata)
         VALUES ($1, 'p', 'h', '{}', '{}', 'running', 1, '{}', $2::json)`,
        [run.id, JSON.stringify(run.metadata)],
      );
    }
    const store = open(older);
    await store.migrate();
    const claims = await adminQuery<{ id: string; claim: number }>(`SELECT id, claim FROM ${older}.runs`);
    const byId = new Map(claims.map((r) => [r.id, r.claim]));
    // What an execution's fence holds: claimOf of the metadata it read.
    expect(metadata.map(([m]) => claimOf(m))).toEqual(metadata.map(([, claim]) => claim));
    expect(runs.map((r) => byId.get(r.id))).toEqual(metadata.map(([, claim]) => claim));
    // Each run's execution writes under the claim it holds, and under no other.
    for (const [i, run] of runs.entries()) {
      const claim = metadata[i]?.[1] as number;
      await store.commitStep(sampleStep(run.id, 'a'), [], { runId: run.id, claim });
      await expect(
        store.commitStep(sampleStep(run.id, 'b'), [], { runId: run.id, claim: claim + 1 }),
      ).rejects.toBeInstanceOf(RunTakenOverError);
      expect((await store.getSteps(run.id)).map((s) => s.key)).toEqual(['a']);
    }
    await store.close();
  });

  it('is written with the metadata: by createRun, claimRun and updateRun', async () => {
    const store = open();
    const claimColumn = async (id: string) =>
      (await adminQuery<{ claim: number }>(`SELECT claim FROM ${schema}.runs WHERE id = $1`, [id]))[0]?.claim;
    const run = sampleRun({ status: 'interrupted', metadata: { note: '\u0000', resumes: 4 } });
    await store.createRun(run);
    expect(await claimColumn(run.id)).toBe(4);
    expect(await store.claimRun(run.id, run, { status: 'running', metadata: { ...run.metadata, resumes: 5 } })).toBe(
      true,
    );
    expect(await claimColumn(run.id)).toBe(5);
    await store.updateRun(run.id, { metadata: { ...run.metadata, resumes: 6, chain: { runs: [] } } });
    expect(await claimColumn(run.id)).toBe(6);
    await store.updateRun(run.id, { status: 'succeeded' }, { runId: run.id, claim: 6 });
    expect(await claimColumn(run.id)).toBe(6);
    await store.close();
  });
});

describe('a fenced write holds no lock across round trips', () => {
  it('a writer stalled in the middle of its write keeps nobody from claiming the run, and is refused after', async () => {
    const writer = open();
    const claimer = open();
    const run = sampleRun();
    await writer.createRun(run);
    await writer.commitItems([item(run.id, 0)], { runId: run.id, claim: 0 });
    // The writer's process stops before it sends its item insert (SIGSTOP, a paused VM): whatever
    // it sent before is all the server has of this write.
    let resume = () => {};
    const stalled = new Promise<void>((resolve) => {
      resume = resolve;
    });
    let reached = () => {};
    const atInsert = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const original = pg.Client.prototype.query;
    let armed = true;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
      if (armed && text?.includes('INSERT INTO items')) {
        armed = false;
        reached();
        return stalled.then(() => (original as (...a: unknown[]) => unknown).apply(this, args));
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    let write: Promise<unknown> | undefined;
    try {
      write = writer.commitItems([item(run.id, 1)], { runId: run.id, claim: 0 }).then(
        () => 'committed',
        (error: unknown) => error,
      );
      await atInsert;
      const claim = claimer.claimRun(run.id, run, { metadata: { ...run.metadata, resumes: 1 } });
      expect(await within(3_000, claim)).toBe(true);
    } finally {
      resume();
      pg.Client.prototype.query = original;
    }
    expect(await write).toBeInstanceOf(RunTakenOverError);
    expect((await claimer.getItems(run.id, 'batch')).map((i) => i.index)).toEqual([0]);
    await writer.close();
    await claimer.close();
  });

  it('a claim waits for a lock on the run at most claimLockTimeoutMs, then says the journal is away for now', async () => {
    const store = open(schema, { max: 1, claimLockTimeoutMs: 300 });
    const run = sampleRun();
    await store.createRun(run);
    // Another session holds the run's row (a process stopped inside a transaction).
    const holder = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await holder.connect();
    let outcome: unknown;
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM ${schema}.runs WHERE id = $1 FOR UPDATE`, [run.id]);
      const claim = store.claimRun(run.id, run, { metadata: { ...run.metadata, resumes: 1 } }).then(
        (claimed) => claimed,
        (error: unknown) => error,
      );
      outcome = await within(3_000, claim);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect(outcome).toBeInstanceOf(ElexirionError);
    const error = outcome as ElexirionError;
    expect(error.exitCode).toBe(ExitCode.unavailable);
    expect(error.message).toMatch(/cannot be claimed now/);
    // A cluster worker waits that out (its job delayed, no attempt spent), as a journal restarting.
    expect(journalAway(error)).toBe(true);
    // The lock released, the claim goes through; the session's lock_timeout is the server's again.
    expect(await store.claimRun(run.id, run, { metadata: { ...run.metadata, resumes: 1 } })).toBe(true);
    const pool = (store as unknown as { pool: pg.Pool }).pool;
    expect((await pool.query('SHOW lock_timeout')).rows[0]?.lock_timeout).toBe('0');
    await store.close();
  });

  it('every session ends a transaction left idle (a stopped process), and keeps its connection alive', async () => {
    const store = open();
    await store.migrate();
    const pool = (store as unknown as { pool: pg.Pool }).pool;
    const { rows } = await pool.query('SHOW idle_in_transaction_session_timeout');
    expect(rows[0]?.idle_in_transaction_session_timeout).toBe('30s');
    expect(poolConfig(TEST_POSTGRES_URL, { max: 1, connectionTimeoutMs: 1 }).keepAlive).toBe(true);
    await store.close();
  });
});
