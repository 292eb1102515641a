// Every change the SQLite journal makes, as plain data: what the write-ahead log holds (one JSON line
// each) and what is applied to the tables — by the process that wrote it, or by the next one to open
// the journal if that process died first. Values are already in column form, so that applying a
// write replayed from the log does exactly what applying it fresh would have done.
import type Database from 'better-sqlite3';
import type { Row } from './rows.js';
import { CALL_COLUMNS, ITEM_COLUMNS, STEP_COLUMNS } from './rows.js';
import type { EventBatchRow, SqliteEventLog } from './sqlite-event-log.js';
import { MAX_CALL_BILLS } from './store.js';

export type JournalWrite =
  /** A new run: its row by column name. */
  | [op: 'run', row: Row]
  /** Some columns of a run (`row` holds them and `id`). */
  | [op: 'update', row: Row, columns: string[]]
  /** A step's row: STEP_COLUMNS then its events (JSON), first and last seq. */
  | [op: 'step', params: unknown[]]
  | [op: 'items', rows: unknown[][]]
  | [op: 'events', rows: EventBatchRow[]]
  /**
   * `resume --force`: these steps (and those nested under them) and their items go; what every
   * forgotten step had spent (a RunTotals as JSON text) is kept with the run. A line logged before
   * the spend was kept has no fourth element.
   */
  | [op: 'delete', runId: string, keys: string[], forgottenSpend?: string]
  | [op: 'calls', rows: unknown[][]]
  /** A bill (Store.putBill): CALL_COLUMNS of the record a key without one gets, then `bills`. */
  | [op: 'bill', params: unknown[]];

/**
 * Params that hold JSON text, by write: in a log line they are embedded as JSON (wrapped in `[ ]`;
 * `null` for SQL NULL) instead of as strings — escaping every quote of a step's events a second time
 * cost more than the rest of the line (write-behind.ts). Read back, `JSON.stringify` gives the
 * exact text again: it is what produced it.
 */
const JSON_PARAMS: Partial<Record<JournalWrite[0], ReadonlySet<number>>> = {
  step: new Set([5, 7, 13, 14]), // output, usage, details, events (STEP_COLUMNS, then events)
  items: new Set([4, 6]), // output, usage (ITEM_COLUMNS), in each row
  events: new Set([3]), // the events, in each row
};

/** The write as one line of the log (no newline). */
export function logLine(write: JournalWrite): string {
  const embedded = JSON_PARAMS[write[0]];
  if (!embedded) return JSON.stringify(write);
  const encode = (params: readonly unknown[]): string => {
    let text = '[';
    for (let i = 0; i < params.length; i++) {
      const value = params[i];
      if (i > 0) text += ',';
      text += embedded.has(i) && typeof value === 'string' ? `[${value}]` : JSON.stringify(value ?? null);
    }
    return `${text}]`;
  };
  return write[0] === 'step'
    ? `["step",${encode(write[1])}]`
    : `[${JSON.stringify(write[0])},[${(write[1] as unknown[][]).map(encode).join(',')}]]`;
}

/** The write a log line holds (`JSON.parse`d). */
export function fromLogLine(record: unknown): JournalWrite {
  const write = record as JournalWrite;
  const embedded = JSON_PARAMS[write[0]];
  if (!embedded) return write;
  const decode = (params: unknown[]): unknown[] =>
    params.map((value, i) => (embedded.has(i) && Array.isArray(value) ? JSON.stringify(value[0]) : value));
  return (
    write[0] === 'step' ? ['step', decode(write[1])] : [write[0], (write[1] as unknown[][]).map(decode)]
  ) as JournalWrite;
}

/** Values in an `items` row (ITEM_COLUMNS). */
const ITEM_WIDTH = ITEM_COLUMNS.split(',').length;
/** Values in a `calls` row (CALL_COLUMNS). */
const CALL_WIDTH = CALL_COLUMNS.split(',').length;

/** The columns of `runs` (migration 1): the only ones an `update` write may name. */
const RUN_COLUMNS: ReadonlySet<string> = new Set([
  'id',
  'pipeline_name',
  'pipeline_file',
  'pipeline_hash',
  'pipeline',
  'inputs',
  'status',
  'error',
  'failed_step',
  'outputs',
  'started_at',
  'finished_at',
  'totals',
  'metadata',
]);

export class SqliteWrites {
  private readonly stmts;
  private readonly updates = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly events: SqliteEventLog,
  ) {
    this.stmts = {
      insertRun: db.prepare(
        `INSERT INTO runs (id, pipeline_name, pipeline_file, pipeline_hash, pipeline, inputs, status, error, failed_step,
          outputs, started_at, finished_at, totals, metadata)
         VALUES (@id, @pipeline_name, @pipeline_file, @pipeline_hash, @pipeline, @inputs, @status, @error, @failed_step,
          @outputs, @started_at, @finished_at, @totals, @metadata)`,
      ),
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
      upsertItem: db.prepare(
        `INSERT INTO items (${ITEM_COLUMNS})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, step_key, idx) DO UPDATE SET status = excluded.status, output = excluded.output,
          error = excluded.error, usage = excluded.usage, cost_usd = excluded.cost_usd, attempts = excluded.attempts,
          duration_ms = excluded.duration_ms, calls = excluded.calls, unpriced_calls = excluded.unpriced_calls`,
      ),
      deleteStep: db.prepare(
        "DELETE FROM steps WHERE run_id = @runId AND (key = @key OR substr(key, 1, length(@key) + 1) = @key || '/')",
      ),
      deleteItems: db.prepare(
        "DELETE FROM items WHERE run_id = @runId AND (step_key = @key OR substr(step_key, 1, length(@key) + 1) = @key || '/')",
      ),
      keepForgottenSpend: db.prepare('UPDATE runs SET forgotten_spend = ? WHERE id = ?'),
      putCall: db.prepare(
        `INSERT INTO calls (${CALL_COLUMNS})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET response = excluded.response, usage = excluded.usage,
          cost_usd = excluded.cost_usd, created_at = excluded.created_at, expires_at = excluded.expires_at,
          paid_by = excluded.paid_by`,
      ),
      // Appends the bill to the key's record, whatever answer it holds (which stays); the oldest
      // goes past MAX_CALL_BILLS, never more than one since the array is only grown here.
      putBill: db.prepare(
        `INSERT INTO calls (${CALL_COLUMNS}, bills)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET bills = CASE
          WHEN calls.bills IS NULL THEN excluded.bills
          ELSE json_insert(
            CASE WHEN json_array_length(calls.bills) >= ${MAX_CALL_BILLS} THEN json_remove(calls.bills, '$[0]')
              ELSE calls.bills END,
            '$[#]', json(json_extract(excluded.bills, '$[0]')))
          END`,
      ),
    };
  }

  /** Applies one write; call inside a transaction. */
  apply(write: JournalWrite): void {
    switch (write[0]) {
      case 'run':
        this.stmts.insertRun.run(write[1]);
        return;
      case 'update':
        this.update(write[2]).run(write[1]);
        return;
      case 'step':
        this.stmts.upsertStep.run(...write[1]);
        return;
      case 'items':
        // A row logged by an older process (killed before applying it) lacks the newest columns it
        // did not know — `calls`, `unpriced_calls` (rows.ts): NULL, unknown.
        for (const row of write[1])
          this.stmts.upsertItem.run(
            ...(row.length < ITEM_WIDTH ? [...row, ...Array(ITEM_WIDTH - row.length).fill(null)] : row),
          );
        return;
      case 'events':
        this.events.insert(write[1]);
        return;
      case 'delete':
        for (const key of write[2]) {
          this.stmts.deleteStep.run({ runId: write[1], key });
          this.stmts.deleteItems.run({ runId: write[1], key });
        }
        if (write[3] !== undefined) this.stmts.keepForgottenSpend.run(write[3], write[1]);
        return;
      case 'calls':
        // A row logged by an older process lacks `paid_by`: NULL, unknown.
        for (const row of write[1])
          this.stmts.putCall.run(
            ...(row.length < CALL_WIDTH ? [...row, ...Array(CALL_WIDTH - row.length).fill(null)] : row),
          );
        return;
      case 'bill':
        this.stmts.putBill.run(...write[1]);
        return;
      default:
        throw new Error(`unknown journal write ${JSON.stringify((write as unknown[])[0])}`);
    }
  }

  private update(columns: string[]): Database.Statement {
    // Column names are spliced into SQL: a log file edited by hand must not be able to inject any.
    // And only the runs table's own: a line naming another (damaged, yet valid JSON) is no write at
    // all — refused and passed over — not a SQLite error that would stop every open of the journal.
    if (!columns.every((c) => RUN_COLUMNS.has(c))) throw new Error(`bad run columns ${JSON.stringify(columns)}`);
    const sql = `UPDATE runs SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`;
    let statement = this.updates.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.updates.set(sql, statement);
    }
    return statement;
  }
}

/**
 * Whether the tables refuse this write for good (a constraint it breaks, a value they cannot hold,
 * a record that is no write at all): then it is passed over. Anything else — a busy, locked, full,
 * read-only or failing database, a schema changed underneath — says "not now": the write waits.
 */
export function isRefused(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return true;
  return /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(code);
}
