import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteEventLog } from '../../src/journal/sqlite-event-log.js';
import { SQLITE_MIGRATIONS } from '../../src/journal/sqlite-migrations.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { fromLogLine, SqliteWrites } from '../../src/journal/sqlite-writes.js';
import { describeStoreConformance, sampleRun, sampleStep } from './store-conformance.js';

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'elexirion-store-')), 'journal.db');

describeStoreConformance('sqlite', () => new SqliteStore(tempDb()));

describe('SqliteStore specifics', () => {
  it('uses WAL with synchronous=NORMAL by default and FULL on request', () => {
    const path = tempDb();
    const store = new SqliteStore(path);
    const raw = new Database(path);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
    void store.close();
    const full = new SqliteStore(tempDb(), { durability: 'full' });
    // synchronous is per connection: read it through the store's own connection.
    expect((full as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true })).toBe(2);
    void full.close();
  });

  // With durability 'full' the log and its directory are synced as well: what was written reads back the same.
  it.each([
    ['normal', {}],
    ['full', { durability: 'full' }],
  ] as const)(
    'a committed step is in the journal for any connection opened after it resolved (durability %s)',
    async (_name, options) => {
      const path = tempDb();
      const store = new SqliteStore(path, options);
      const run = sampleRun();
      await store.createRun(run);
      await store.commitStep(sampleStep(run.id, 'a'));
      const other = new SqliteStore(path);
      expect((await other.getSteps(run.id)).map((s) => s.key)).toEqual(['a']);
      await other.close();
      await store.close();
    },
  );

  it('upgrades a journal written with one row per event, keeping its events readable', async () => {
    const path = tempDb();
    const raw = new Database(path);
    raw.exec(SQLITE_MIGRATIONS[0] as string);
    raw.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1)');
    raw
      .prepare(
        `INSERT INTO runs (id, pipeline_name, pipeline_hash, pipeline, inputs, status, started_at, totals, metadata)
         VALUES ('old', 'p', 'h', '{}', '{}', 'failed', 1, '{}', '{}')`,
      )
      .run();
    const insert = raw.prepare('INSERT INTO events (run_id, seq, type, at, data) VALUES (?, ?, ?, ?, ?)');
    for (const seq of [1, 2, 3])
      insert.run('old', seq, `t${seq}`, 100 + seq, JSON.stringify({ seq, nested: { a: [1] } }));
    raw.close();

    const store = new SqliteStore(path);
    expect(await store.getEvents('old', 1)).toEqual([
      { runId: 'old', seq: 2, type: 't2', at: 102, data: { seq: 2, nested: { a: [1] } } },
      { runId: 'old', seq: 3, type: 't3', at: 103, data: { seq: 3, nested: { a: [1] } } },
    ]);
    expect(await store.lastEventSeq('old')).toBe(3);
    await store.appendEvents([{ runId: 'old', seq: 4, type: 't4', at: 104, data: {} }]);
    expect((await store.getEvents('old', 2)).map((e) => e.seq)).toEqual([3, 4]);
    await store.close();
  });

  it('upgrades the call records of an older journal, which keep answering and being replaced', async () => {
    const path = tempDb();
    const raw = new Database(path);
    for (const migration of SQLITE_MIGRATIONS.slice(0, 5)) raw.exec(migration);
    raw.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (5)');
    const insert = raw.prepare(
      `INSERT INTO calls (key, provider, model, request, response, usage, cost_usd, created_at, expires_at)
       VALUES (?, 'mock', 'mock-1', '{}', ?, '{"inputTokens":1,"outputTokens":2}', ?, ?, NULL)`,
    );
    insert.run('k-old', JSON.stringify({ text: 'old' }), 0.5, 1000);
    insert.run('k-unpriced', JSON.stringify({ text: 'unpriced' }), null, 2000);
    raw.close();

    const store = new SqliteStore(path);
    expect(await store.getCall('k-old', 5000)).toEqual({
      key: 'k-old',
      provider: 'mock',
      model: 'mock-1',
      request: {},
      response: { text: 'old' },
      usage: { inputTokens: 1, outputTokens: 2 },
      costUsd: 0.5,
      createdAt: 1000,
      expiresAt: null,
    });
    expect((await store.getCall('k-unpriced', 5000))?.costUsd).toBeNull();
    const replaced = { ...(await store.getCall('k-old', 5000)), response: { text: 'new' }, createdAt: 3000 };
    await store.putCall(replaced as Parameters<SqliteStore['putCall']>[0]);
    expect((await store.getCall('k-old', 5000))?.response).toEqual({ text: 'new' });
    await store.close();
    const check = new Database(path);
    expect(check.prepare('SELECT count(*) AS n FROM calls').get()).toEqual({ n: 2 });
    check.close();
  });

  it('upgrades a journal whose items kept no calls: they read back without, counted apart', async () => {
    const path = tempDb();
    const raw = new Database(path);
    for (const migration of SQLITE_MIGRATIONS.slice(0, 7)) raw.exec(migration);
    raw.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (7)');
    raw
      .prepare(
        `INSERT INTO runs (id, pipeline_name, pipeline_hash, pipeline, inputs, status, started_at, totals, metadata)
         VALUES ('old', 'p', 'h', '{}', '{}', 'running', 1, '{}', '{}')`,
      )
      .run();
    raw
      .prepare(
        `INSERT INTO items (run_id, step_key, idx, status, output, usage, cost_usd, attempts, duration_ms)
         VALUES ('old', 'each', 0, 'succeeded', '"o"', '{"inputTokens":1,"outputTokens":2}', 0.5, 1, 3)`,
      )
      .run();
    raw.close();

    const store = new SqliteStore(path);
    const [item] = await store.getItems('old', 'each');
    expect(item && 'calls' in item).toBe(false);
    expect(await store.itemTotals('old')).toEqual([
      expect.objectContaining({ stepKey: 'each', items: 1, calls: 0, itemsWithoutCalls: 1 }),
    ]);
    await store.close();
  });

  it('applies the writes of a log written before items kept their calls and forgotten steps their spend', async () => {
    // What a killed process of an earlier version left in its log, applied by this version's
    // recovery: an items row without its `calls` (and `unpriced_calls`), one without its
    // `unpriced_calls` only, a `delete` without the spend.
    const path = tempDb();
    const store = new SqliteStore(path);
    const run = sampleRun();
    await store.createRun(run);
    await store.commitStep(sampleStep(run.id, 'gone'));
    await store.close();
    const raw = new Database(path);
    const writes = new SqliteWrites(raw, new SqliteEventLog(raw));
    const line = (text: string) => fromLogLine(JSON.parse(text));
    raw.transaction(() => {
      writes.apply(
        line(`["items",[["${run.id}","each",0,"succeeded",["o"],null,[{"inputTokens":1,"outputTokens":2}],0.5,1,3]]]`),
      );
      writes.apply(
        line(`["items",[["${run.id}","each",1,"failed",null,"bad",[{"inputTokens":1,"outputTokens":0}],null,1,3,1]]]`),
      );
      writes.apply(line(`["delete","${run.id}",["gone"]]`));
    })();
    raw.close();

    const reopened = new SqliteStore(path);
    expect(await reopened.getItems(run.id, 'each')).toEqual([
      {
        runId: run.id,
        stepKey: 'each',
        index: 0,
        status: 'succeeded',
        output: 'o',
        usage: { inputTokens: 1, outputTokens: 2 },
        costUsd: 0.5,
        attempts: 1,
        durationMs: 3,
      },
      {
        runId: run.id,
        stepKey: 'each',
        index: 1,
        status: 'failed',
        error: 'bad',
        usage: { inputTokens: 1, outputTokens: 0 },
        costUsd: null,
        attempts: 1,
        durationMs: 3,
        calls: 1,
      },
    ]);
    expect(await reopened.getSteps(run.id)).toEqual([]);
    // The item of unknown cost that did not count its unpriced calls counts one.
    expect(await reopened.itemTotals(run.id)).toEqual([
      expect.objectContaining({ stepKey: 'each', costUsd: 0.5, unpricedCalls: 1, calls: 1, itemsWithoutCalls: 1 }),
    ]);
    await reopened.close();
  });

  it('refuses a journal written by a newer Elexirion, saying so', async () => {
    const path = tempDb();
    await new SqliteStore(path).close();
    const raw = new Database(path);
    raw.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SQLITE_MIGRATIONS.length + 1);
    raw.close();
    expect(() => new SqliteStore(path)).toThrow(
      new RegExp(`schema version ${SQLITE_MIGRATIONS.length + 1}, newer than this Elexirion knows`),
    );
  });

  it('says what to do when the database cannot be opened', () => {
    // A path below a regular file can never be created.
    const file = tempDb();
    new Database(file).close();
    let error: unknown;
    try {
      new SqliteStore(join(file, 'x.db'));
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(/cannot open the journal database .*x\.db/);
    expect((error as { hint?: string }).hint).toMatch(/--db or ELEXIRION_DB/);
  });
});
