// The journal on SQLite: one file, zero services. A write is durable once it is a line in this
// process's write-ahead log and reaches the tables behind, many to a transaction (write-behind.ts).
// Both the log and SQLite (WAL mode, synchronous=NORMAL) survive a killed process — the bytes are in
// the OS page cache before the call returns — but not a power cut: `durability: 'full'` buys that
// at the price of an fsync per write.
import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ElexirionError, ExitCode } from '../errors.js';
import {
  billParams,
  callParams,
  itemParams,
  json,
  type Row,
  rowToCall,
  rowToItem,
  rowToRun,
  rowToStep,
  stepParams,
} from './rows.js';
import type { RunFence } from './run-fence.js';
import { SqliteCallKeys } from './sqlite-call-keys.js';
import { SqliteEventLog } from './sqlite-event-log.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';
import { SqliteWrites } from './sqlite-writes.js';
import {
  type CallBill,
  type CallRecord,
  type EventRecord,
  forgottenTotals,
  type ItemCounts,
  type ItemRecord,
  type ItemTotals,
  type ListRunsOptions,
  type RunRecord,
  type RunTotals,
  STOPPED_ITEM_PREFIX,
  type StepRecord,
  type Store,
} from './store.js';
import { WriteBehind } from './write-behind.js';

/** How often at most the reads that show runs apply other processes' logs (write-behind.ts). */
const RECOVER_EVERY_MS = 1000;

export interface SqliteStoreOptions {
  /** 'normal' (default): survives a killed process. 'full': survives a power cut too. */
  durability?: 'normal' | 'full';
  /** The size at which this process's write-ahead log, all applied, gives way to a new one (64 MB). */
  logRotateBytes?: number;
}

export class SqliteStore implements Store {
  readonly path: string;
  /** One machine's journal: a run is taken over only from an owner that is gone (run-fence.ts). */
  readonly checksFences = false;
  private readonly db: Database.Database;
  private readonly stmts: ReturnType<SqliteStore['prepare']>;
  /**
   * Every write goes through it: logged at once, applied to the tables behind. Every read applies
   * what waits first, so that it sees every write that has resolved.
   */
  private readonly behind: WriteBehind;
  private readonly events: SqliteEventLog;
  /** Which call keys the journal may hold: a cache miss skips the read (sqlite-call-keys.ts). */
  private readonly callKeys: SqliteCallKeys;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    // The journal cannot be opened, or read as a SQLite database: unavailable (exit 69), not a bug.
    const cannotOpen = (error: unknown) =>
      new ElexirionError(`cannot open the journal database ${path}: ${(error as Error).message}`, {
        exitCode: ExitCode.unavailable,
        cause: error,
        hint:
          (error as { code?: string }).code === 'SQLITE_NOTADB'
            ? 'that file is not an Elexirion journal (a SQLite database): check the path given by --db or ELEXIRION_DB'
            : 'check the path given by --db or ELEXIRION_DB, and that its directory is writable',
      });
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path);
    } catch (error) {
      throw cannotOpen(error);
    }
    try {
      // The first statements that read the file: where a file that is not a SQLite database (a
      // mistyped --db naming some other file) is found out — a journal unavailable, not a bug.
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('busy_timeout = 5000');
      // A checkpoint (WAL → database file) fsyncs; every 1,000 pages (SQLite's default) it cost a
      // sequential run ~80 µs per step. Every 10,000 pages (~40 MB of WAL) it is ten times rarer; the
      // WAL file is truncated back to 64 MB after a checkpoint so that it cannot grow without bound.
      this.db.pragma('wal_autocheckpoint = 10000');
      this.db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      this.db.pragma('foreign_keys = ON');
    } catch (error) {
      this.db.close();
      throw cannotOpen(error);
    }
    this.migrateSync();
    this.stmts = this.prepare();
    this.events = new SqliteEventLog(this.db);
    // The log directory beside the database file itself: reached through a symlink or a relative
    // path, the same journal must find the same logs (SQLite's own -wal follows the real file).
    const real = path === ':memory:' ? path : realpathSync(path);
    this.behind = new WriteBehind(this.db, new SqliteWrites(this.db, this.events), {
      ...(path === ':memory:' ? {} : { dir: `${real}-log`, fileMode: statSync(real).mode & 0o666 }),
      fsync: options.durability === 'full',
      ...(options.logRotateBytes === undefined ? {} : { rotateAtBytes: options.logRotateBytes }),
    });
    try {
      // Before anything reads: what a killed process had logged but not applied.
      this.behind.recover();
    } catch (error) {
      this.behind.abandon();
      this.db.close();
      throw error;
    }
    this.callKeys = new SqliteCallKeys(this.db, () => this.behind.flush());
  }

  async migrate(): Promise<void> {
    this.migrateSync();
  }

  private migrateSync(): void {
    // The version is read inside the write transaction that migrates: two processes opening a fresh
    // (or older) journal at once must not both read version N and both run migration N + 1 — the
    // second failed its open ("table runs already exists"). The one that waited finds nothing to do.
    const migrate = this.db.transaction((): number => {
      this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      const row = this.db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
      const current = row.v ?? 0;
      for (let v = current; v < SQLITE_MIGRATIONS.length; v++) {
        this.db.exec(SQLITE_MIGRATIONS[v] as string);
        this.db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(v + 1);
      }
      return current;
    });
    const current = migrate.immediate();
    if (current > SQLITE_MIGRATIONS.length) {
      // A newer Elexirion's journal: its tables, and the logs it may have left, mean what this one
      // cannot know.
      this.db.close();
      throw new ElexirionError(
        `the journal ${this.path} is at schema version ${current}, newer than this Elexirion knows (${SQLITE_MIGRATIONS.length})`,
        { exitCode: ExitCode.unavailable, hint: 'upgrade Elexirion on this machine to the version that wrote it' },
      );
    }
  }

  private prepare() {
    const db = this.db;
    return {
      getRun: db.prepare('SELECT * FROM runs WHERE id = ?'),
      // Not the events the rows carry: the step records only.
      getSteps: db.prepare(
        `SELECT run_id, key, name, type, status, output, error, usage, cost_usd, duration_ms, attempts, started_at,
          finished_at, details FROM steps WHERE run_id = ? ORDER BY finished_at, rowid`,
      ),
      itemTotals: db.prepare(
        `SELECT step_key AS stepKey, count(*) AS items,
           coalesce(sum(json_extract(usage, '$.inputTokens')), 0) AS inputTokens,
           coalesce(sum(json_extract(usage, '$.outputTokens')), 0) AS outputTokens,
           coalesce(sum(cost_usd), 0) AS costUsd,
           coalesce(sum(max(coalesce(unpriced_calls, 0), cost_usd IS NULL)), 0) AS unpricedCalls,
           coalesce(sum(calls), 0) AS calls, coalesce(sum(calls IS NULL), 0) AS itemsWithoutCalls
         FROM items WHERE run_id = ? GROUP BY step_key`,
      ),
      forgottenSpend: db.prepare('SELECT forgotten_spend FROM runs WHERE id = ?').pluck(),
      getItems: db.prepare('SELECT * FROM items WHERE run_id = ? AND step_key = ? ORDER BY idx'),
      getItemRange: db.prepare(
        'SELECT * FROM items WHERE run_id = ? AND step_key = ? AND idx >= ? AND idx < ? ORDER BY idx',
      ),
      countItems: db.prepare(
        `SELECT coalesce(sum(status = 'succeeded'), 0) AS succeeded,
           coalesce(sum(status = 'failed' AND substr(coalesce(error, ''), 1, ${STOPPED_ITEM_PREFIX.length}) <> '${STOPPED_ITEM_PREFIX}'), 0) AS failed,
           coalesce(sum(status = 'failed' AND substr(coalesce(error, ''), 1, ${STOPPED_ITEM_PREFIX.length}) = '${STOPPED_ITEM_PREFIX}'), 0) AS stopped
         FROM items WHERE run_id = ? AND step_key = ?`,
      ),
      getCall: db.prepare(
        'SELECT * FROM calls WHERE key = ? AND (expires_at IS NULL OR expires_at > ? OR bills IS NOT NULL)',
      ),
    };
  }

  async publish(): Promise<void> {
    this.behind.flush();
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    try {
      this.behind.close();
    } finally {
      this.db.close();
    }
  }

  async createRun(run: RunRecord): Promise<void> {
    return this.behind.write(['run', runToRow(run)]);
  }

  // The fences (run-fence.ts) of these writes are ignored: one machine's journal, whose runs are
  // taken over only from an owner whose process is gone (or that gave the run up), never beside it.
  async updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>, _fence?: RunFence): Promise<void> {
    const row = runToRow({ id, ...patch } as RunRecord);
    const columns = Object.entries(RUN_COLUMNS)
      .filter(([field]) => field in patch && field !== 'id')
      .map(([, column]) => column);
    if (columns.length === 0) return;
    return this.behind.write(['update', row, columns]);
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
    // Not behind: the answer is needed now, and everything written before it must be in — this
    // process's writes and every other's (a killed owner's last writes may still be only in its log).
    this.behind.flush();
    this.behind.recover();
    const result = this.db
      .prepare(`UPDATE runs SET ${sets} WHERE id = @id AND status = @expected_status AND metadata = @expected_metadata`)
      .run({ ...row, expected_status: expected.status, expected_metadata: JSON.stringify(expected.metadata) });
    return result.changes === 1;
  }

  /**
   * Before a read that shows runs: this process's waiting writes applied, and — at most every
   * RECOVER_EVERY_MS — other processes' logs (a long-lived `serve` shows their runs, killed ones too).
   */
  private readyToShow(): void {
    this.behind.flush();
    this.behind.recover(RECOVER_EVERY_MS);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    this.readyToShow();
    let row = this.stmts.getRun.get(id) as Row | undefined;
    if (!row) {
      // Asked for by id, so it is expected: it may have been written by another process a moment
      // ago (a run handed to this worker), its logs not yet applied by anyone.
      this.behind.recover();
      row = this.stmts.getRun.get(id) as Row | undefined;
    }
    return row ? rowToRun(row) : undefined;
  }

  async listRuns(options: ListRunsOptions = {}): Promise<RunRecord[]> {
    const limit = options.limit ?? 50;
    this.readyToShow();
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (options.status) {
      where.push('status = ?');
      params.push(options.status);
    }
    const { before } = options;
    if (before) {
      where.push('(started_at < ? OR (started_at = ? AND id < ?))');
      params.push(before.startedAt, before.startedAt, before.id);
    }
    // By id after the start: runs started in one millisecond keep one order, which a page's cursor needs.
    const rows = this.db
      .prepare(
        `SELECT * FROM runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT ?`,
      )
      .all(...params, limit);
    return (rows as Row[]).map(rowToRun);
  }

  async commitStep(step: StepRecord, events: EventRecord[] = [], _fence?: RunFence): Promise<void> {
    const runId = step.runId;
    let own = events;
    let others: Promise<void> = Promise.resolve();
    if (!events.every((e) => e.runId === runId)) {
      others = this.behind.write(['events', SqliteEventLog.batchRows(events.filter((e) => e.runId !== runId))]);
      own = events.filter((e) => e.runId === runId);
    }
    const mine = this.behind.write(['step', [...stepParams(step), ...SqliteEventLog.stepColumns(own)]]);
    await Promise.all([others, mine]);
  }

  async getSteps(runId: string): Promise<StepRecord[]> {
    this.readyToShow();
    return (this.stmts.getSteps.all(runId) as Row[]).map(rowToStep);
  }

  async deleteSteps(runId: string, keys: string[], forgottenSpend?: RunTotals): Promise<void> {
    return this.behind.write(
      forgottenSpend ? ['delete', runId, keys, JSON.stringify(forgottenSpend)] : ['delete', runId, keys],
    );
  }

  async commitItems(items: ItemRecord[], _fence?: RunFence): Promise<void> {
    return this.behind.write(['items', items.map(itemParams)]);
  }

  async getItems(runId: string, stepKey: string, range?: { from: number; to: number }): Promise<ItemRecord[]> {
    this.behind.flush();
    const rows = range
      ? this.stmts.getItemRange.all(runId, stepKey, range.from, range.to)
      : this.stmts.getItems.all(runId, stepKey);
    return (rows as Row[]).map(rowToItem);
  }

  async countItems(runId: string, stepKey: string): Promise<ItemCounts> {
    this.behind.flush();
    const row = this.stmts.countItems.get(runId, stepKey) as ItemCounts;
    return { succeeded: row.succeeded, failed: row.failed, stopped: row.stopped };
  }

  async itemTotals(runId: string): Promise<ItemTotals[]> {
    this.behind.flush();
    const totals = this.stmts.itemTotals.all(runId) as ItemTotals[];
    const forgotten = this.stmts.forgottenSpend.get(runId) as string | null | undefined;
    if (typeof forgotten === 'string') totals.push(forgottenTotals(JSON.parse(forgotten) as RunTotals));
    return totals;
  }

  async lastEventSeq(runId: string): Promise<number> {
    this.behind.flush();
    return this.events.lastSeq(runId);
  }

  async appendEvents(events: EventRecord[], _fence?: RunFence): Promise<void> {
    if (events.length === 0) return;
    return this.behind.write(['events', SqliteEventLog.batchRows(events)]);
  }

  async getEvents(runId: string, afterSeq = 0, limit = 10_000): Promise<EventRecord[]> {
    // The event log is read by live streams that join a run midway: they must see every event
    // already handed to the journal, or a reader would find a gap between the log and live events.
    this.readyToShow();
    return this.events.read(runId, afterSeq, limit);
  }

  async executionStarts(runId: string): Promise<Array<{ seq: number; at: number }>> {
    this.readyToShow(); // as getEvents: every event handed to the journal is seen
    return this.events.executionStarts(runId);
  }

  async putCall(call: CallRecord): Promise<void> {
    return this.putCalls([call]);
  }

  async putCalls(calls: CallRecord[]): Promise<void> {
    this.callKeys.add(calls.map((call) => call.key));
    // Not logged: a cached call lost with a killed process is a call paid again, not a lost result
    // (the step or item that used it is journaled).
    return this.behind.write(['calls', calls.map(callParams)], false);
  }

  async putBill(call: CallRecord, bill: CallBill): Promise<void> {
    this.callKeys.add([call.key]);
    // Logged, unlike an answer's record: no journaled row of the step that paid may carry it yet.
    return this.behind.write(['bill', billParams(call, bill)]);
  }

  mayHaveCall(key: string): boolean {
    return this.callKeys.mayHave(key);
  }

  async getCall(key: string, now: number): Promise<CallRecord | undefined> {
    // No key filter here: the call cache asked mayHaveCall first (certainMiss), once per call.
    this.behind.flush();
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
