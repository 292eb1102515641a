import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ElexirionError, ExitCode } from '../../src/errors.js';
import { EventLoopMonitor } from '../../src/health/event-loop.js';
import { checkHealth } from '../../src/health/health.js';
import { POSTGRES_MIGRATIONS } from '../../src/journal/postgres-migrations.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import type { ItemRecord } from '../../src/journal/store.js';
import { adminQuery, dropSchema, TEST_POSTGRES_URL, uniqueSchema } from './postgres-harness.js';
import { describeStoreConformance, sampleRun, sampleStep } from './store-conformance.js';

const schema = uniqueSchema();
const schemas = [schema];
const open = (s = schema) => new PostgresStore(TEST_POSTGRES_URL, { schema: s, max: 4 });

afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

describeStoreConformance('postgres', () => open());

async function rejection(promise: Promise<unknown>): Promise<ElexirionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ElexirionError);
  return error as ElexirionError;
}

function item(runId: string, index: number, overrides: Partial<ItemRecord> = {}): ItemRecord {
  return {
    runId,
    stepKey: 'batch',
    index,
    status: 'succeeded',
    output: { index },
    usage: { inputTokens: 1, outputTokens: 1 },
    costUsd: 0.001,
    attempts: 1,
    durationMs: 1,
    ...overrides,
  };
}

describe('PostgresStore specifics', () => {
  it('several stores migrating one fresh schema at once: each version applied exactly once', async () => {
    const fresh = uniqueSchema('elexirion_race');
    schemas.push(fresh);
    const stores = Array.from({ length: 6 }, () => open(fresh));
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      const versions = await adminQuery<{ version: number }>(
        `SELECT version FROM ${fresh}.schema_version ORDER BY version`,
      );
      expect(versions.map((v) => v.version)).toEqual(POSTGRES_MIGRATIONS.map((_, i) => i + 1));
      const run = sampleRun();
      await stores[0]?.createRun(run);
      expect((await stores[5]?.getRun(run.id))?.id).toBe(run.id);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('creates its schema on first use, without an explicit migrate()', async () => {
    const fresh = uniqueSchema('elexirion_lazy');
    schemas.push(fresh);
    const store = open(fresh);
    const run = sampleRun();
    await store.createRun(run);
    expect(await store.getRun(run.id)).toEqual(run);
    await store.close();
  });

  it('refuses a journal whose schema is newer than this version knows', async () => {
    const fresh = uniqueSchema('elexirion_newer');
    schemas.push(fresh);
    const store = open(fresh);
    await store.migrate();
    await adminQuery(`INSERT INTO ${fresh}.schema_version (version, applied_at) VALUES (999, 0)`);
    const error = await rejection(store.migrate());
    expect(error.message).toContain('schema version 999, newer than this Elexirion knows');
    expect(error.exitCode).toBe(ExitCode.unavailable);
    await store.close();
  });

  it('upgrades a journal whose items counted no unpriced calls: one of unknown cost counts one', async () => {
    const older = uniqueSchema('elexirion_v2');
    schemas.push(older);
    const run = sampleRun();
    // A journal at version 2, as the Elexirion before `unpriced_calls` left it, with two items.
    await adminQuery(`CREATE SCHEMA ${older}`);
    await adminQuery(
      `SET search_path = ${older};
       CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);
       ${POSTGRES_MIGRATIONS.slice(0, 2).join(';')};
       INSERT INTO schema_version VALUES (1, 0), (2, 0);
       INSERT INTO runs (id, pipeline_name, pipeline_hash, pipeline, inputs, status, started_at, totals, metadata)
         VALUES ('${run.id}', 'p', 'h', '{}', '{}', 'running', 1, '{}', '{}');
       INSERT INTO items (run_id, step_key, idx, status, usage, cost_usd, attempts, duration_ms, calls) VALUES
         ('${run.id}', 'each', 0, 'failed', '{"inputTokens":1,"outputTokens":0}', NULL, 1, 3, 1),
         ('${run.id}', 'each', 1, 'succeeded', '{"inputTokens":1,"outputTokens":0}', 0.5, 1, 3, 1)`,
    );
    const store = open(older);
    await store.migrate();
    expect((await store.getItems(run.id, 'each')).map((i) => i.unpricedCalls)).toEqual([undefined, undefined]);
    expect(await store.itemTotals(run.id)).toEqual([
      expect.objectContaining({ stepKey: 'each', costUsd: 0.5, unpricedCalls: 1, calls: 2 }),
    ]);
    await store.commitItems([item(run.id, 0, { stepKey: 'each', costUsd: 0.5, calls: 2, unpricedCalls: 1 })]);
    expect((await store.itemTotals(run.id))[0]).toMatchObject({ costUsd: 1, unpricedCalls: 1 });
    await store.close();
  });

  it('keeps documents as given: key order, a JSON null apart from an absent value, NUL characters', async () => {
    const store = open();
    const run = sampleRun({ outputs: { zeta: 1, a: 2, middle: 3 }, inputs: { long_name: 'x', b: 'y' } });
    await store.createRun(run);
    const got = await store.getRun(run.id);
    expect(Object.keys(got?.outputs ?? {})).toEqual(['zeta', 'a', 'middle']);
    expect(Object.keys(got?.inputs ?? {})).toEqual(['long_name', 'b']);
    await store.commitItems([
      item(run.id, 0, { output: null }),
      item(run.id, 1, { output: undefined }),
      // A NUL character, which jsonb refuses, can come back from a model.
      item(run.id, 2, { output: 'a\u0000b' }),
    ]);
    const [withNull, absent, withNul] = await store.getItems(run.id, 'batch');
    expect(withNull?.output).toBeNull();
    expect(absent && 'output' in absent).toBe(false);
    expect(withNul?.output).toBe('a\u0000b');
    await store.close();
  });

  it('commits a step and its events in one transaction: a bad event leaves no step', async () => {
    const store = open();
    const run = sampleRun();
    await store.createRun(run);
    await store.appendEvents([{ runId: run.id, seq: 1, type: 't', at: 1, data: {} }]);
    const duplicateSeq = { runId: run.id, seq: 1, type: 'pipeline.step.stop', at: 2, data: {} };
    await expect(store.commitStep(sampleStep(run.id, 'a'), [duplicateSeq])).rejects.toThrow(/duplicate key/);
    expect(await store.getSteps(run.id)).toEqual([]);
    await store.close();
  });

  it('a committed step is visible at once to another pool; commits are synchronous', async () => {
    const writer = open();
    const reader = open();
    const run = sampleRun();
    await writer.createRun(run);
    await writer.commitStep(sampleStep(run.id, 'a'));
    expect((await reader.getSteps(run.id)).map((s) => s.key)).toEqual(['a']);
    const pool = (writer as unknown as { pool: { query(sql: string): Promise<{ rows: Record<string, string>[] }> } })
      .pool;
    expect((await pool.query('SHOW synchronous_commit')).rows[0]?.synchronous_commit).toBe('on');
    await writer.close();
    await reader.close();
  });

  it('writes thousands of items in chunks, the last write of an index winning', async () => {
    const store = open();
    const run = sampleRun();
    await store.createRun(run);
    const items = Array.from({ length: 2500 }, (_, i) =>
      item(run.id, i, { status: i % 5 === 0 ? 'failed' : 'succeeded' }),
    );
    items.push(item(run.id, 7, { status: 'failed', error: 'rewritten', output: undefined }));
    await store.commitItems(items);
    expect(await store.countItems(run.id, 'batch')).toEqual({ succeeded: 1999, failed: 501, stopped: 0 });
    const [seventh] = await store.getItems(run.id, 'batch', { from: 7, to: 8 });
    expect(seventh?.error).toBe('rewritten');
    expect((await store.getItems(run.id, 'batch', { from: 2498, to: 5000 })).map((i) => i.index)).toEqual([2498, 2499]);
    await store.close();
  });

  it('a batch of calls may hold one key twice: the later one is kept', async () => {
    const store = open();
    const base = { provider: 'mock', model: 'm', request: {}, usage: { inputTokens: 1, outputTokens: 1 } };
    const key = uniqueSchema('call');
    await store.putCalls([
      { ...base, key, response: { text: 'first' }, costUsd: 0, createdAt: 1, expiresAt: null },
      { ...base, key, response: { text: 'second' }, costUsd: null, createdAt: 2, expiresAt: null },
    ]);
    const got = await store.getCall(key, 3);
    expect(got?.response).toEqual({ text: 'second' });
    expect(got?.costUsd).toBeNull();
    await store.close();
  });
});

describe('PostgresStore health', () => {
  // A journal that answers reads but takes no writes — here a connection whose transactions are
  // read-only, as on a hot standby a failover left the service pointing at — cannot record a run.
  it('reads from a read-only connection, and its write probe makes the health check unhealthy', async () => {
    const s = uniqueSchema('elexirion_health');
    schemas.push(s);
    const writable = open(s);
    await writable.createRun(sampleRun({ id: 'r-health' }));
    await writable.probeWrite();
    expect(await adminQuery(`SELECT id FROM ${s}.health_probe`)).toEqual([{ id: 1 }]);
    const readOnly = new PostgresStore(`${TEST_POSTGRES_URL}?options=-c%20default_transaction_read_only%3Don`, {
      schema: s,
    });
    const eventLoop = new EventLoopMonitor();
    try {
      expect((await readOnly.getRun('r-health'))?.id).toBe('r-health');
      await expect(readOnly.probeWrite()).rejects.toThrow(/read-only/);
      const report = await checkHealth({ store: readOnly, eventLoop, env: {} });
      expect(report.checks.database.status).toBe('fail');
      expect(report.status).toBe('unhealthy');
      expect((await checkHealth({ store: writable, eventLoop, env: {} })).checks.database.status).toBe('ok');
    } finally {
      eventLoop.stop();
      await readOnly.close();
      await writable.close();
    }
  });
});

describe('PostgresStore connection errors', () => {
  const password = 'Sup3r-s3cret-pw';

  it('an unreachable server: a clear unavailable error, with a hint and without the password', async () => {
    const store = new PostgresStore(`postgres://postgres:${password}@127.0.0.1:1/test`, { schema });
    const error = await rejection(store.getRun('x'));
    expect(error.exitCode).toBe(ExitCode.unavailable);
    expect(error.message).toMatch(
      /cannot use the PostgreSQL journal at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test/,
    );
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.hint).toBe('is PostgreSQL running at 127.0.0.1:1? check --db / ELEXIRION_DB');
    expect(`${error.message} ${error.hint}`).not.toContain(password);
    await store.close();
  });

  it('a password given in the query (?password=, which the client reads too) is kept out as well', async () => {
    const store = new PostgresStore(`postgres://postgres@127.0.0.1:1/test?password=${password}`, { schema });
    const error = await rejection(store.getRun('x'));
    expect(error.exitCode).toBe(ExitCode.unavailable);
    expect(error.message).toContain('postgres://postgres@127.0.0.1:1/test?password=***');
    expect(`${error.message} ${error.hint}`).not.toContain(password);
    await store.close();
  });

  it('a database that does not exist: says to create it', async () => {
    const store = new PostgresStore(`postgres://postgres:${password}@127.0.0.1:5432/no_such_db_elexirion`);
    const error = await rejection(store.migrate());
    expect(error.exitCode).toBe(ExitCode.unavailable);
    expect(error.message).toContain('database "no_such_db_elexirion" does not exist');
    expect(error.hint).toContain('createdb no_such_db_elexirion');
    expect(`${error.message} ${error.hint}`).not.toContain(password);
    await store.close();
  });

  it('a malformed URL or schema name is refused at once, without the password', () => {
    const bad = () => new PostgresStore(`postgres://postgres:${password}@[127.0.0.1/test`);
    expect(bad).toThrow(/is not a valid PostgreSQL URL/);
    try {
      bad();
    } catch (e) {
      expect((e as ElexirionError).exitCode).toBe(ExitCode.invalidInput);
      expect((e as Error).message).not.toContain(password);
    }
    expect(() => open('Robert; DROP TABLE runs')).toThrow(/cannot be used as the journal's PostgreSQL schema/);
  });

  it('a schema named by a keyword (order, user, select, current_user) is quoted; pg_… is refused at once', async () => {
    // A database of its own: these names cannot be made unique to this test file.
    const database = uniqueSchema('elexirion_keywords');
    await adminQuery(`CREATE DATABASE ${database}`);
    const url = new URL(TEST_POSTGRES_URL);
    url.pathname = `/${database}`;
    try {
      for (const name of ['order', 'user', 'select', 'current_user']) {
        const store = new PostgresStore(url.toString(), { schema: name, max: 2 });
        const run = sampleRun();
        try {
          await store.createRun(run);
          await store.commitStep(sampleStep(run.id, 'a'));
          await store.migrate(); // finds its version in the schema: nothing to do
        } finally {
          await store.close();
        }
        const again = new PostgresStore(url.toString(), { schema: name, max: 1 });
        try {
          expect((await again.getSteps(run.id)).map((s) => s.key)).toEqual(['a']);
        } finally {
          await again.close();
        }
      }
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      const { rows } = await client
        .query<{ nspname: string }>('SELECT nspname FROM pg_namespace')
        .finally(() => client.end());
      expect(rows.map((r) => r.nspname)).toEqual(expect.arrayContaining(['current_user', 'order', 'select', 'user']));
    } finally {
      await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    }
    const reserved = await rejection(Promise.resolve().then(() => open('pg_journal')));
    expect(reserved.exitCode).toBe(ExitCode.invalidInput);
    expect(reserved.message).toMatch(/reserves names beginning with pg_/);
  });
});

describe('PostgresStore under load', () => {
  it('a pool kept busy past the timeout says so, rather than blaming the server', async () => {
    const store = new PostgresStore(TEST_POSTGRES_URL, { schema, max: 1, connectionTimeoutMs: 200 });
    await store.migrate();
    // Hold the only connection: a query on the pool's one client that sleeps past the timeout.
    const pool = (store as unknown as { pool: { query(sql: string): Promise<unknown> } }).pool;
    const holder = pool.query('SELECT pg_sleep(0.6)');
    const error = await rejection(store.getRun('y'));
    expect(error.exitCode).toBe(ExitCode.unavailable);
    expect(error.message).toContain('kept all 1 connections of this process busy too long');
    expect(error.hint).toContain('raise the pool size');
    await holder;
    await store.close();
  });
});
