// The journal on PostgreSQL: one database shared by every worker of a cluster. A commit is
// acknowledged only once its WAL record is flushed to disk (synchronous_commit=on is forced per
// session), which is the Store's "durable before it resolves". The schema is created on first use
// (or by migrate()), so a store can be handed to the engine as soon as it is constructed.
import type pg from 'pg';
import { ElexirionError, ExitCode } from '../errors.js';
import { loadPg } from './load-pg.js';
import { type InsertSpec, insertRows, lastByKey, type Statement } from './postgres-batch.js';
import {
  assertSchemaName,
  CONNECT_TIMEOUT,
  IDLE_IN_TRANSACTION_TIMEOUT_MS,
  isConnectionError,
  LOCK_NOT_AVAILABLE,
  type PostgresTarget,
  parsePostgresUrl,
  poolConfig,
  unavailableError,
} from './postgres-connection.js';
import { migratePostgres } from './postgres-migrate.js';
import {
  billParams,
  CALL_COLUMNS,
  CALL_TYPES,
  callParams,
  EVENT_COLUMNS,
  EVENT_TYPES,
  eventParams,
  ITEM_COLUMNS,
  ITEM_TYPES,
  itemParams,
  json,
  parse,
  type Row,
  RUN_COLUMNS,
  rowToCall,
  rowToEvent,
  rowToItem,
  rowToRun,
  rowToStep,
  runValue,
  STEP_COLUMNS,
  STEP_TYPES,
  stepParams,
} from './postgres-rows.js';
import { claimOf, type RunFence, RunTakenOverError } from './run-fence.js';
import {
  type CallBill,
  type CallRecord,
  type EventRecord,
  forgottenTotals,
  type ItemCounts,
  type ItemRecord,
  type ItemTotals,
  type ListRunsOptions,
  MAX_CALL_BILLS,
  type RunRecord,
  type RunTotals,
  STOPPED_ITEM_PREFIX,
  type StepRecord,
  type Store,
} from './store.js';

export interface PostgresStoreOptions {
  /** A PostgreSQL schema of its own (created if absent): journals side by side in one database. */
  schema?: string;
  /**
   * Connections this process may hold (default 10). Steps, item batches, events and the call cache
   * write concurrently; mind the server's max_connections (100 by default) across all workers.
   */
  max?: number;
  /** How long to wait for a connection before saying the database is unavailable (default 5 s). */
  connectionTimeoutMs?: number;
  /**
   * How long claimRun waits for another session's lock on the run's row (default 10 s) before
   * saying the journal is unavailable for now — a session that stopped in the middle of a
   * transaction holds it until the server ends it (idle_in_transaction_session_timeout).
   */
  claimLockTimeoutMs?: number;
}

const JSON_COLUMNS = new Set(RUN_COLUMNS.filter(([, , kind]) => kind === 'json').map(([, column]) => column));

const ITEM_INSERT: InsertSpec = {
  into: `items (${ITEM_COLUMNS})`,
  types: ITEM_TYPES,
  onConflict: `ON CONFLICT (run_id, step_key, idx) DO UPDATE SET status = excluded.status, output = excluded.output,
    error = excluded.error, usage = excluded.usage, cost_usd = excluded.cost_usd, attempts = excluded.attempts,
    duration_ms = excluded.duration_ms, calls = excluded.calls, unpriced_calls = excluded.unpriced_calls`,
};
const EVENT_INSERT: InsertSpec = { into: `events (${EVENT_COLUMNS})`, types: EVENT_TYPES };
const CALL_INSERT: InsertSpec = {
  into: `calls (${CALL_COLUMNS})`,
  types: CALL_TYPES,
  onConflict: `ON CONFLICT (key) DO UPDATE SET response = excluded.response, usage = excluded.usage,
    cost_usd = excluded.cost_usd, created_at = excluded.created_at, expires_at = excluded.expires_at,
    paid_by = excluded.paid_by`,
};
/**
 * Store.putBill: the bill ($11, an array of one) appended to the key's record, whatever answer it
 * holds (which stays), the oldest dropped past MAX_CALL_BILLS; a key without a record gets one.
 * Kept as `json` (no jsonb round trip, which would re-order the documents' keys).
 */
const PUT_BILL = `INSERT INTO calls (${CALL_COLUMNS}, bills)
  VALUES ($1, $2, $3, $4::json, $5::json, $6::json, $7::float8, $8::bigint, $9::bigint, $10, $11::json)
  ON CONFLICT (key) DO UPDATE SET bills = (
    SELECT json_agg(bill ORDER BY n) FROM (
      SELECT bill, n FROM (
        SELECT bill, n FROM json_array_elements(coalesce(calls.bills, '[]'::json)) WITH ORDINALITY AS kept (bill, n)
        UNION ALL
        SELECT bill, n + 1000000000 FROM json_array_elements(excluded.bills) WITH ORDINALITY AS added (bill, n)
      ) AS every ORDER BY n DESC LIMIT ${MAX_CALL_BILLS}
    ) AS newest
  )`;
const STEP_UPSERT: InsertSpec = {
  into: `steps (${STEP_COLUMNS})`,
  types: STEP_TYPES,
  onConflict: `ON CONFLICT (run_id, key) DO UPDATE SET name = excluded.name, type = excluded.type,
    status = excluded.status, output = excluded.output, error = excluded.error, usage = excluded.usage,
    cost_usd = excluded.cost_usd, duration_ms = excluded.duration_ms, attempts = excluded.attempts,
    started_at = excluded.started_at, finished_at = excluded.finished_at, details = excluded.details`,
};

/**
 * A fenced write's condition (run-fence.ts), part of the write's own statement: the run ($1) still
 * holds the claim ($2) — the `claim` column, never a value read out of the metadata, whose json
 * operators fail on a document holding a NUL or a lone surrogate anywhere (free-form metadata may).
 * FOR SHARE keeps a claim (an UPDATE of that row) from committing until the write has,
 * and a write that meets a claim under way waits for it and reads the row it leaves: a claim is
 * either before the write (which is then refused) or after it (and reads what it wrote). The write
 * is one statement, committed as it ends, so the lock is never held across round trips: a process
 * frozen between two writes holds nothing that another's claim would wait for.
 */
const HOLDS_CLAIM = 'EXISTS (SELECT 1 FROM runs WHERE id = $1 AND claim = $2 FOR SHARE)';

/** A write's fence as its statement's condition and first parameters; none when unfenced. */
interface Guard {
  where?: string;
  values: unknown[];
  /** The number of the write's own first placeholder. */
  first: number;
}

const guard = (fence: RunFence | undefined): Guard =>
  fence ? { where: HOLDS_CLAIM, values: [fence.runId, fence.claim], first: 3 } : { values: [], first: 1 };

export class PostgresStore implements Store {
  /** Where the journal is, password hidden: safe to print. */
  readonly location: string;
  readonly schema: string | undefined;
  /** The cluster's journal: a run's writes are fenced (run-fence.ts), checked in each write. */
  readonly checksFences = true;
  private readonly target: PostgresTarget;
  private readonly pool: pg.Pool;
  private readonly max: number;
  private readonly claimLockTimeoutMs: number;
  private ready: Promise<void> | undefined;
  private ended = false;

  constructor(url: string, options: PostgresStoreOptions = {}) {
    this.target = parsePostgresUrl(url);
    this.location = this.target.display;
    if (options.schema !== undefined) assertSchemaName(options.schema);
    this.schema = options.schema;
    this.max = options.max ?? 10;
    this.claimLockTimeoutMs = Math.max(1, Math.round(options.claimLockTimeoutMs ?? 10_000));
    this.pool = new (loadPg().Pool)(
      poolConfig(url, {
        max: this.max,
        connectionTimeoutMs: options.connectionTimeoutMs ?? 5_000,
        ...(options.schema === undefined ? {} : { schema: options.schema }),
      }),
    );
    // An idle connection that dies (a server restart) is reported here; unheard, Node would crash
    // the process. The pool drops it, and the next query reconnects or fails with the clear error.
    this.pool.on('error', () => undefined);
  }

  async migrate(): Promise<void> {
    this.ready = undefined;
    await this.migrated();
  }

  /** Every write is committed when it resolves: nothing waits. */
  async publish(): Promise<void> {}

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }

  async createRun(run: RunRecord): Promise<void> {
    const columns = [...RUN_COLUMNS.map(([, column]) => column), 'claim'];
    const placeholders = columns.map((c, i) => `$${i + 1}${JSON_COLUMNS.has(c) ? '::json' : ''}`);
    await this.query(`INSERT INTO runs (${columns.join(', ')}) VALUES (${placeholders.join(', ')})`, [
      ...RUN_COLUMNS.map(([field, , kind]) => runValue(run, field, kind)),
      claimOf(run.metadata),
    ]);
  }

  async updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>, fence?: RunFence): Promise<void> {
    const { sets, values } = runSets(patch, 2);
    if (sets.length === 0) return;
    if (!fence) {
      await this.query(`UPDATE runs SET ${sets.join(', ')} WHERE id = $1`, [id, ...values]);
      return;
    }
    // Fenced: only while the run holds the claim — the same row, so the one statement is atomic.
    const claim = `claim = $${values.length + 2}`;
    const rows = await this.query(`UPDATE runs SET ${sets.join(', ')} WHERE id = $1 AND ${claim} RETURNING id`, [
      id,
      ...values,
      fence.claim,
    ]);
    if (rows.length === 0) throw new RunTakenOverError(id);
  }

  /**
   * The compare-and-set of a claim. It waits at most claimLockTimeoutMs for another session's lock
   * on the run's row — a fenced write holds one for a statement, but a process stopped in the middle
   * of a transaction holds its lock until the server ends its session — then says the journal is
   * unavailable for now (exit 69): a cluster worker puts the run's job back and asks again later.
   */
  async claimRun(
    id: string,
    expected: Pick<RunRecord, 'status' | 'metadata'>,
    patch: Partial<Omit<RunRecord, 'id'>>,
  ): Promise<boolean> {
    const { sets, values } = runSets(patch, 4);
    const text = `UPDATE runs SET ${sets.join(', ')} WHERE id = $1 AND status = $2 AND metadata::text = $3 RETURNING id`;
    const params = [id, expected.status, JSON.stringify(expected.metadata), ...values];
    await this.migrated();
    return this.connected(async () => {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        // For the session, not a transaction: the claim commits as its statement ends, and a process
        // stopped after it holds no lock.
        await client.query(`SET lock_timeout = ${this.claimLockTimeoutMs}`);
        try {
          return (await client.query(text, params.map(storable))).rowCount === 1;
        } catch (error) {
          if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw error;
          throw new ElexirionError(
            `run ${id} cannot be claimed now: another session has held its row in the journal for over ${this.claimLockTimeoutMs / 1000} s`,
            {
              exitCode: ExitCode.unavailable,
              hint: `try again shortly: a process stopped in the middle of a write loses its lock after ${IDLE_IN_TRANSACTION_TIMEOUT_MS / 1000} s`,
              cause: error,
            },
          );
        } finally {
          await client.query('RESET lock_timeout').catch((resetError: Error) => {
            broken = resetError;
          });
        }
      } finally {
        // A connection whose lock_timeout could not be reset is destroyed rather than reused.
        client.release(broken);
      }
    });
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const rows = await this.query('SELECT * FROM runs WHERE id = $1', [id]);
    return rows[0] ? rowToRun(rows[0]) : undefined;
  }

  async listRuns(options: ListRunsOptions = {}): Promise<RunRecord[]> {
    const limit = options.limit ?? 50;
    const where: string[] = [];
    const values: unknown[] = [];
    if (options.status) {
      values.push(options.status);
      where.push(`status = $${values.length}`);
    }
    const { before } = options;
    if (before) {
      values.push(before.startedAt, before.id);
      where.push(`(started_at, id) < ($${values.length - 1}, $${values.length})`);
    }
    values.push(limit);
    const rows = await this.query(
      `SELECT * FROM runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT $${values.length}`,
      values,
    );
    return rows.map(rowToRun);
  }

  /** The step and its events in one statement: atomic, one round trip, no transaction to hold open. */
  async commitStep(step: StepRecord, events: EventRecord[] = [], fence?: RunFence): Promise<void> {
    if (events.length === 0) return this.fencedInsert(STEP_UPSERT, [stepParams(step)], fence);
    const g = guard(fence);
    const upsert = insertRows(STEP_UPSERT, [stepParams(step)], g);
    // Its events only with the step: none when the fence refused it.
    const inserted = insertRows(EVENT_INSERT, events.map(eventParams), {
      where: 'EXISTS (SELECT 1 FROM step)',
      first: g.first + upsert.values.length,
    });
    await this.fencedWrite(fence, `WITH step AS (${upsert.text} RETURNING 1) ${inserted.text}`, [
      ...g.values,
      ...upsert.values,
      ...inserted.values,
    ]);
  }

  async getSteps(runId: string): Promise<StepRecord[]> {
    const rows = await this.query('SELECT * FROM steps WHERE run_id = $1 ORDER BY finished_at, commit_order', [runId]);
    return rows.map(rowToStep);
  }

  async deleteSteps(runId: string, keys: string[], forgottenSpend?: RunTotals): Promise<void> {
    if (keys.length === 0 && !forgottenSpend) return;
    await this.transaction([
      ...(forgottenSpend
        ? [{ text: 'UPDATE runs SET forgotten_spend = $2::json WHERE id = $1', values: [runId, json(forgottenSpend)] }]
        : []),
      {
        text: `DELETE FROM steps WHERE run_id = $1 AND EXISTS (SELECT 1 FROM unnest($2::text[]) AS k
                 WHERE steps.key = k OR left(steps.key, length(k) + 1) = k || '/')`,
        values: [runId, keys],
      },
      {
        text: `DELETE FROM items WHERE run_id = $1 AND EXISTS (SELECT 1 FROM unnest($2::text[]) AS k
                 WHERE items.step_key = k OR left(items.step_key, length(k) + 1) = k || '/')`,
        values: [runId, keys],
      },
    ]);
  }

  async commitItems(items: ItemRecord[], fence?: RunFence): Promise<void> {
    if (items.length === 0) return;
    const latest = lastByKey(items, (i) => JSON.stringify([i.runId, i.stepKey, i.index]));
    await this.fencedInsert(ITEM_INSERT, latest.map(itemParams), fence);
  }

  async getItems(runId: string, stepKey: string, range?: { from: number; to: number }): Promise<ItemRecord[]> {
    const rows = range
      ? await this.query(
          'SELECT * FROM items WHERE run_id = $1 AND step_key = $2 AND idx >= $3 AND idx < $4 ORDER BY idx',
          [runId, stepKey, range.from, range.to],
        )
      : await this.query('SELECT * FROM items WHERE run_id = $1 AND step_key = $2 ORDER BY idx', [runId, stepKey]);
    return rows.map(rowToItem);
  }

  async countItems(runId: string, stepKey: string): Promise<ItemCounts> {
    const rows = await this.query(
      `SELECT count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
         count(*) FILTER (WHERE status = 'failed' AND coalesce(error, '') NOT LIKE '${STOPPED_ITEM_PREFIX}%') AS failed,
         count(*) FILTER (WHERE status = 'failed' AND coalesce(error, '') LIKE '${STOPPED_ITEM_PREFIX}%') AS stopped
       FROM items WHERE run_id = $1 AND step_key = $2`,
      [runId, stepKey],
    );
    const row = rows[0] ?? {};
    return {
      succeeded: Number(row.succeeded ?? 0),
      failed: Number(row.failed ?? 0),
      stopped: Number(row.stopped ?? 0),
    };
  }

  async itemTotals(runId: string): Promise<ItemTotals[]> {
    const rows = await this.query(
      `SELECT step_key, count(*)::int AS items,
         coalesce(sum((usage->>'inputTokens')::numeric), 0)::float8 AS input_tokens,
         coalesce(sum((usage->>'outputTokens')::numeric), 0)::float8 AS output_tokens,
         coalesce(sum(cost_usd), 0)::float8 AS cost_usd,
         coalesce(sum(greatest(coalesce(unpriced_calls, 0), (cost_usd IS NULL)::int)), 0)::float8 AS unpriced,
         coalesce(sum(calls), 0)::float8 AS calls, count(*) FILTER (WHERE calls IS NULL)::int AS without_calls
       FROM items WHERE run_id = $1 GROUP BY step_key`,
      [runId],
    );
    const totals: ItemTotals[] = rows.map((r) => ({
      stepKey: r.step_key as string,
      items: Number(r.items),
      inputTokens: Number(r.input_tokens),
      outputTokens: Number(r.output_tokens),
      costUsd: Number(r.cost_usd),
      unpricedCalls: Number(r.unpriced),
      calls: Number(r.calls),
      itemsWithoutCalls: Number(r.without_calls),
    }));
    const [run] = await this.query('SELECT forgotten_spend FROM runs WHERE id = $1', [runId]);
    const forgotten = parse(run?.forgotten_spend) as RunTotals | undefined;
    if (forgotten) totals.push(forgottenTotals(forgotten));
    return totals;
  }

  async lastEventSeq(runId: string): Promise<number> {
    const rows = await this.query('SELECT coalesce(max(seq), 0)::int AS seq FROM events WHERE run_id = $1', [runId]);
    return Number(rows[0]?.seq ?? 0);
  }

  async appendEvents(events: EventRecord[], fence?: RunFence): Promise<void> {
    if (events.length === 0) return;
    await this.fencedInsert(EVENT_INSERT, events.map(eventParams), fence);
  }

  async getEvents(runId: string, afterSeq = 0, limit = 10_000): Promise<EventRecord[]> {
    // bigint, not the column's integer: a reader may ask from any seq (a Last-Event-ID past 2^31).
    const rows = await this.query(
      'SELECT * FROM events WHERE run_id = $1 AND seq > $2::bigint ORDER BY seq LIMIT $3::bigint',
      [runId, afterSeq, limit],
    );
    return rows.map(rowToEvent);
  }

  async executionStarts(runId: string): Promise<Array<{ seq: number; at: number }>> {
    const rows = await this.query(
      "SELECT seq, at FROM events WHERE run_id = $1 AND type = 'pipeline.execution.start' ORDER BY seq",
      [runId],
    );
    return rows.map((r) => ({ seq: Number(r.seq), at: Number(r.at) }));
  }

  async putCall(call: CallRecord): Promise<void> {
    await this.putCalls([call]);
  }

  async putCalls(calls: CallRecord[]): Promise<void> {
    if (calls.length === 0) return;
    const latest = lastByKey(calls, (c) => c.key);
    const inserted = insertRows(CALL_INSERT, latest.map(callParams));
    await this.query(inserted.text, inserted.values);
  }

  async putBill(call: CallRecord, bill: CallBill): Promise<void> {
    await this.query(PUT_BILL, billParams(call, bill));
  }

  async getCall(key: string, now: number): Promise<CallRecord | undefined> {
    const rows = await this.query(
      'SELECT * FROM calls WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2 OR bills IS NOT NULL)',
      [key, now],
    );
    return rows[0] ? rowToCall(rows[0]) : undefined;
  }

  /**
   * One committed write, for the health check: rejects while the journal takes no writes (a full
   * disk, a standby after a failover, a role that may only read), which a read would not show.
   */
  async probeWrite(): Promise<void> {
    await this.query(
      'INSERT INTO health_probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
      [Date.now()],
    );
  }

  /** The schema, created or upgraded once per store; a failed attempt is retried by the next call. */
  private migrated(): Promise<void> {
    this.ready ??= this.connected(async () => {
      const client = await this.pool.connect();
      try {
        await migratePostgres(client, this.schema);
      } finally {
        client.release();
      }
    }).catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async query(text: string, values: unknown[]): Promise<Row[]> {
    return (await this.execute(text, values)).rows;
  }

  private async execute(text: string, values: unknown[]): Promise<pg.QueryResult<Row>> {
    await this.migrated();
    return this.connected(() => this.pool.query<Row>(text, values.map(storable)));
  }

  /** One INSERT of `rows` under `fence` (guard): refused with RunTakenOverError when the run was claimed since. */
  private async fencedInsert(spec: InsertSpec, rows: unknown[][], fence: RunFence | undefined): Promise<void> {
    const g = guard(fence);
    const inserted = insertRows(spec, rows, g);
    await this.fencedWrite(fence, inserted.text, [...g.values, ...inserted.values]);
  }

  /** A write of rows under `fence`'s condition (guard): none written means the run was claimed since. */
  private async fencedWrite(fence: RunFence | undefined, text: string, values: unknown[]): Promise<void> {
    const result = await this.execute(text, values);
    if (fence && result.rowCount === 0) throw new RunTakenOverError(fence.runId);
  }

  /** The statements in one transaction (deleteSteps': two or three). */
  private async transaction(statements: Statement[]): Promise<void> {
    await this.migrated();
    await this.connected(async () => {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        for (const s of statements) await client.query(s.text, s.values.map(storable));
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        // A connection that could not even roll back is destroyed rather than reused.
        client.release(broken);
      }
    });
  }

  /** Runs `work`, turning "the database cannot be reached or entered" into the clear error. */
  private async connected<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ElexirionError || !isConnectionError(error)) throw error;
      // The pool's connection timeout also bounds the wait for a free connection of a full pool.
      const busy = CONNECT_TIMEOUT.test((error as Error).message) && this.pool.totalCount >= this.max;
      throw unavailableError(this.target, error, busy ? { max: this.max } : undefined);
    }
  }
}

/**
 * A parameter as PostgreSQL can hold it: a text column refuses the NUL character, which SQLite keeps
 * (an error message quoting a provider's body may carry one), and a journal write it refuses would
 * crash the run. It is stored as U+FFFD, the replacement character. JSON text never holds a raw NUL
 * (JSON.stringify escapes it), so only plain text is changed.
 */
function storable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(storable); // a column of rows (postgres-batch.ts)
  return typeof value === 'string' && value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}

/**
 * The `SET` list of a run's patch, its placeholders numbered from `first`. A patch of the metadata
 * writes the claim it records beside it (run-fence.ts): the column fenced writes compare.
 */
function runSets(patch: Partial<Omit<RunRecord, 'id'>>, first: number): { sets: string[]; values: unknown[] } {
  const changed = RUN_COLUMNS.filter(([field]) => field !== 'id' && field in patch);
  const sets = changed.map(([, column], i) => `${column} = $${first + i}${JSON_COLUMNS.has(column) ? '::json' : ''}`);
  const values = changed.map(([field, , kind]) => runValue(patch, field, kind));
  if ('metadata' in patch) {
    sets.push(`claim = $${first + values.length}`);
    values.push(claimOf(patch.metadata ?? {}));
  }
  return { sets, values };
}
