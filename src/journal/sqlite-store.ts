// The journal on SQLite: one file, zero services. WAL mode with synchronous=NORMAL: a commit
// survives a killed process (the WAL is in the OS page cache before the call returns) but not a
// power cut — `durability: 'full'` (synchronous=FULL) buys that at the price of an fsync per commit.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ElexirionError, ExitCode } from '../errors.js';
import { GroupCommit } from './group-commit.js';
import {
  CALL_COLUMNS,
  callParams,
  ITEM_COLUMNS,
  itemParams,
  json,
  type Row,
  rowToCall,
  rowToItem,
  rowToRun,
  rowToStep,
  STEP_COLUMNS,
  stepParams,
} from './rows.js';
import { SqliteCallKeys } from './sqlite-call-keys.js';
import { SqliteEventLog } from './sqlite-event-log.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';
import type {
  CallRecord,
  EventRecord,
  ItemRecord,
  ItemTotals,
  ListRunsOptions,
  RunRecord,
  StepRecord,
  Store,
} from './store.js';

export interface SqliteStoreOptions {
  /** 'normal' (default): survives a killed process. 'full': survives a power cut too. */
  durability?: 'normal' | 'full';
}

export class SqliteStore implements Store {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly stmts: ReturnType<SqliteStore['prepare']>;
  /**
   * Every write goes through it: one transaction per turn of the event loop (see group-commit.ts).
   * Reads do not wait for it: a write still in the group has resolved for nobody yet, so a read that
   * misses it is like a read beside a transaction not yet committed.
   */
  private readonly group: GroupCommit;
  private readonly updateStatements = new Map<string, Database.Statement>();
  private readonly events: SqliteEventLog;
  /** Which call keys the journal may hold: a cache miss skips the read (sqlite-call-keys.ts). */
  private readonly callKeys: SqliteCallKeys;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path);
    } catch (error) {
      throw new ElexirionError(`cannot open the journal database ${path}: ${(error as Error).message}`, {
        exitCode: ExitCode.unavailable,
        hint: 'check the path given by --db or ELEXIRION_DB, and that its directory is writable',
      });
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    // A checkpoint (WAL → database file) fsyncs; every 1,000 pages (SQLite's default) it cost a
    // sequential run ~80 µs per step. Every 10,000 pages (~40 MB of WAL) it is ten times rarer; the
    // WAL file is truncated back to 64 MB after a checkpoint so that it cannot grow without bound.
    this.db.pragma('wal_autocheckpoint = 10000');
    this.db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    this.db.pragma('foreign_keys = ON');
    this.migrateSync();
    this.stmts = this.prepare();
    this.events = new SqliteEventLog(this.db);
    // Built once: `db.transaction()` prepares its BEGIN/COMMIT statements, dearer than a step's inserts.
    const inTransaction = this.db.transaction((work: () => void) => work());
    this.group = new GroupCommit((work) => inTransaction(work));
    this.callKeys = new SqliteCallKeys(this.db, () => this.group.flush());
  }

  async migrate(): Promise<void> {
    this.migrateSync();
  }

  private migrateSync(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = this.db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
    const current = row.v ?? 0;
    const apply = this.db.transaction(() => {
      for (let v = current; v < SQLITE_MIGRATIONS.length; v++) {
        this.db.exec(SQLITE_MIGRATIONS[v] as string);
        this.db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(v + 1);
      }
    });
    apply.immediate();
  }

  private prepare() {
    const db = this.db;
    return {
      insertRun: db.prepare(
        `INSERT INTO runs (id, pipeline_name, pipeline_file, pipeline_hash, pipeline, inputs, status, error, failed_step,
          outputs, started_at, finished_at, totals, metadata)
         VALUES (@id, @pipeline_name, @pipeline_file, @pipeline_hash, @pipeline, @inputs, @status, @error, @failed_step,
          @outputs, @started_at, @finished_at, @totals, @metadata)`,
      ),
      getRun: db.prepare('SELECT * FROM runs WHERE id = ?'),
      // Positional parameters, in the order of the shared column lists (rows.ts): binding by name
      // costs twice as much.
      upsertStep: db.prepare(
        `INSERT INTO steps (${STEP_COLUMNS}, events, events_first, events_last)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, key) DO UPDATE SET name = excluded.name, type = excluded.type, status = excluded.status,
          output = excluded.output, error = excluded.error, usage = excluded.usage, cost_usd = excluded.cost_usd,
          duration_ms = excluded.duration_ms, attempts = excluded.attempts, started_at = excluded.started_at,
          finished_at = excluded.finished_at, details = excluded.details, events = excluded.events,
          events_first = excluded.events_first, events_last = excluded.events_last`,
      ),
      // Not the events the rows carry: the step records only.
      getSteps: db.prepare(
        `SELECT run_id, key, name, type, status, output, error, usage, cost_usd, duration_ms, attempts, started_at,
          finished_at, details FROM steps WHERE run_id = ? ORDER BY finished_at, rowid`,
      ),
      deleteStep: db.prepare(
        "DELETE FROM steps WHERE run_id = @runId AND (key = @key OR substr(key, 1, length(@key) + 1) = @key || '/')",
      ),
      deleteItems: db.prepare(
        "DELETE FROM items WHERE run_id = @runId AND (step_key = @key OR substr(step_key, 1, length(@key) + 1) = @key || '/')",
      ),
      itemTotals: db.prepare(
        `SELECT step_key AS stepKey, count(*) AS items,
           coalesce(sum(json_extract(usage, '$.inputTokens')), 0) AS inputTokens,
           coalesce(sum(json_extract(usage, '$.outputTokens')), 0) AS outputTokens,
           coalesce(sum(cost_usd), 0) AS costUsd, coalesce(sum(cost_usd IS NULL), 0) AS unpricedItems
         FROM items WHERE run_id = ? GROUP BY step_key`,
      ),
      upsertItem: db.prepare(
        `INSERT INTO items (${ITEM_COLUMNS})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, step_key, idx) DO UPDATE SET status = excluded.status, output = excluded.output,
          error = excluded.error, usage = excluded.usage, cost_usd = excluded.cost_usd, attempts = excluded.attempts,
          duration_ms = excluded.duration_ms`,
      ),
      getItems: db.prepare('SELECT * FROM items WHERE run_id = ? AND step_key = ? ORDER BY idx'),
      getItemRange: db.prepare(
        'SELECT * FROM items WHERE run_id = ? AND step_key = ? AND idx >= ? AND idx < ? ORDER BY idx',
      ),
      countItems: db.prepare(
        `SELECT coalesce(sum(status = 'succeeded'), 0) AS succeeded, coalesce(sum(status = 'failed'), 0) AS failed
         FROM items WHERE run_id = ? AND step_key = ?`,
      ),
      putCall: db.prepare(
        `INSERT INTO calls (${CALL_COLUMNS})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET response = excluded.response, usage = excluded.usage,
          cost_usd = excluded.cost_usd, created_at = excluded.created_at, expires_at = excluded.expires_at`,
      ),
      getCall: db.prepare('SELECT * FROM calls WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)'),
    };
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.group.flush();
    this.db.close();
  }

  async createRun(run: RunRecord): Promise<void> {
    const row = runToRow(run);
    return this.group.write(() => this.stmts.insertRun.run(row));
  }

  async updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>): Promise<void> {
    const row = runToRow({ id, ...patch } as RunRecord);
    const columns = Object.entries(RUN_COLUMNS)
      .filter(([field]) => field in patch)
      .map(([, column]) => column);
    if (columns.length === 0) return;
    const sql = `UPDATE runs SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`;
    let statement = this.updateStatements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.updateStatements.set(sql, statement);
    }
    const prepared = statement;
    return this.group.write(() => prepared.run(row));
  }

  async claimRun(
    id: string,
    expected: Pick<RunRecord, 'status' | 'metadata'>,
    patch: Partial<Omit<RunRecord, 'id'>>,
  ): Promise<boolean> {
    const row = runToRow({ id, ...patch } as RunRecord);
    const columns = Object.entries(RUN_COLUMNS)
      .filter(([field]) => field in patch && field !== 'id')
      .map(([, column]) => column);
    const sets = columns.map((c) => `${c} = @${c}`).join(', ');
    // Outside the group: the answer is needed now, and everything written before it must be in.
    this.group.flush();
    const result = this.db
      .prepare(`UPDATE runs SET ${sets} WHERE id = @id AND status = @expected_status AND metadata = @expected_metadata`)
      .run({ ...row, expected_status: expected.status, expected_metadata: JSON.stringify(expected.metadata) });
    return result.changes === 1;
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = this.stmts.getRun.get(id) as Row | undefined;
    return row ? rowToRun(row) : undefined;
  }

  async listRuns(options: ListRunsOptions = {}): Promise<RunRecord[]> {
    const limit = options.limit ?? 50;
    const rows = options.status
      ? this.db
          .prepare('SELECT * FROM runs WHERE status = ? ORDER BY started_at DESC LIMIT ?')
          .all(options.status, limit)
      : this.db.prepare('SELECT * FROM runs ORDER BY started_at DESC LIMIT ?').all(limit);
    return (rows as Row[]).map(rowToRun);
  }

  async commitStep(step: StepRecord, events: EventRecord[] = []): Promise<void> {
    const row = stepParams(step);
    return this.group.write(() => {
      this.stmts.upsertStep.run(...row, ...this.events.forStep(step.runId, events));
    });
  }

  async getSteps(runId: string): Promise<StepRecord[]> {
    return (this.stmts.getSteps.all(runId) as Row[]).map(rowToStep);
  }

  async deleteSteps(runId: string, keys: string[]): Promise<void> {
    return this.group.write(() => {
      for (const key of keys) {
        this.stmts.deleteStep.run({ runId, key });
        this.stmts.deleteItems.run({ runId, key });
      }
    });
  }

  async commitItems(items: ItemRecord[]): Promise<void> {
    const rows = items.map(itemParams);
    return this.group.write(() => {
      for (const row of rows) this.stmts.upsertItem.run(...row);
    });
  }

  async getItems(runId: string, stepKey: string, range?: { from: number; to: number }): Promise<ItemRecord[]> {
    const rows = range
      ? this.stmts.getItemRange.all(runId, stepKey, range.from, range.to)
      : this.stmts.getItems.all(runId, stepKey);
    return (rows as Row[]).map(rowToItem);
  }

  async countItems(runId: string, stepKey: string): Promise<{ succeeded: number; failed: number }> {
    const row = this.stmts.countItems.get(runId, stepKey) as { succeeded: number; failed: number };
    return { succeeded: row.succeeded, failed: row.failed };
  }

  async itemTotals(runId: string): Promise<ItemTotals[]> {
    return this.stmts.itemTotals.all(runId) as ItemTotals[];
  }

  async lastEventSeq(runId: string): Promise<number> {
    this.group.flush();
    return this.events.lastSeq(runId);
  }

  async appendEvents(events: EventRecord[]): Promise<void> {
    if (events.length === 0) return;
    return this.group.write(() => this.events.append(events));
  }

  async getEvents(runId: string, afterSeq = 0, limit = 10_000): Promise<EventRecord[]> {
    // The event log is read by live streams that join a run midway: they must see every event
    // already handed to the journal, or a reader would find a gap between the log and live events.
    this.group.flush();
    return this.events.read(runId, afterSeq, limit);
  }

  async putCall(call: CallRecord): Promise<void> {
    return this.putCalls([call]);
  }

  async putCalls(calls: CallRecord[]): Promise<void> {
    const rows = calls.map(callParams);
    this.callKeys.add(calls.map((call) => call.key));
    return this.group.write(() => {
      for (const row of rows) this.stmts.putCall.run(...row);
    });
  }

  async getCall(key: string, now: number): Promise<CallRecord | undefined> {
    if (!this.callKeys.mayHave(key)) return undefined;
    const row = this.stmts.getCall.get(key, now) as Row | undefined;
    return row ? rowToCall(row) : undefined;
  }
}

const RUN_COLUMNS: Record<keyof RunRecord, string> = {
  id: 'id',
  pipelineName: 'pipeline_name',
  pipelineFile: 'pipeline_file',
  pipelineHash: 'pipeline_hash',
  pipeline: 'pipeline',
  inputs: 'inputs',
  status: 'status',
  error: 'error',
  failedStep: 'failed_step',
  outputs: 'outputs',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  totals: 'totals',
  metadata: 'metadata',
};

// Every run of a pipeline stores its definition; five hundred runs of one pipeline serialize it once
// (a loaded pipeline is never changed in place).
const pipelineTexts = new WeakMap<object, string | null>();
function pipelineJson(pipeline: unknown): string | null {
  if (pipeline === null || typeof pipeline !== 'object') return json(pipeline);
  let text = pipelineTexts.get(pipeline);
  if (text === undefined) {
    text = json(pipeline);
    pipelineTexts.set(pipeline, text);
  }
  return text;
}

function runToRow(run: RunRecord): Row {
  return {
    id: run.id,
    pipeline_name: run.pipelineName ?? null,
    pipeline_file: run.pipelineFile ?? null,
    pipeline_hash: run.pipelineHash ?? null,
    pipeline: pipelineJson(run.pipeline),
    inputs: json(run.inputs),
    status: run.status ?? null,
    error: run.error ?? null,
    failed_step: run.failedStep ?? null,
    outputs: json(run.outputs),
    started_at: run.startedAt ?? null,
    finished_at: run.finishedAt ?? null,
    totals: json(run.totals),
    metadata: json(run.metadata),
  };
}
