// The journal on PostgreSQL: one database shared by every worker of a cluster. A commit is
// acknowledged only once its WAL record is flushed to disk (synchronous_commit=on is forced per
// session), which is the Store's "durable before it resolves". The schema is created on first use
// (or by migrate()), so a store can be handed to the engine as soon as it is constructed.
import pg from 'pg';
import { ElexirionError } from '../errors.js';
import { insertStatements, lastByKey, type Statement } from './postgres-batch.js';
import {
  assertSchemaName,
  CONNECT_TIMEOUT,
  isConnectionError,
  type PostgresTarget,
  parsePostgresUrl,
  poolConfig,
  unavailableError,
} from './postgres-connection.js';
import { migratePostgres } from './postgres-migrate.js';
import {
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
  stepParams,
} from './postgres-rows.js';
import { type RunFence, RunTakenOverError } from './run-fence.js';
import {
  type CallRecord,
  type EventRecord,
  forgottenTotals,
  type ItemCounts,
  type ItemRecord,
  type ItemTotals,
  type ListRunsOptions,
  type RunRecord,
  type RunTotals,
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
}

const JSON_COLUMNS = new Set(RUN_COLUMNS.filter(([, , kind]) => kind === 'json').map(([, column]) => column));

const ITEM_INSERT = {
  into: `items (${ITEM_COLUMNS})`,
  types: ITEM_TYPES,
  onConflict: `ON CONFLICT (run_id, step_key, idx) DO UPDATE SET status = excluded.status, output = excluded.output,
    error = excluded.error, usage = excluded.usage, cost_usd = excluded.cost_usd, attempts = excluded.attempts,
    duration_ms = excluded.duration_ms, calls = excluded.calls, unpriced_calls = excluded.unpriced_calls`,
};
const EVENT_INSERT = { into: `events (${EVENT_COLUMNS})`, types: EVENT_TYPES };
const CALL_INSERT = {
  into: `calls (${CALL_COLUMNS})`,
  types: CALL_TYPES,
  onConflict: `ON CONFLICT (key) DO UPDATE SET response = excluded.response, usage = excluded.usage,
    cost_usd = excluded.cost_usd, created_at = excluded.created_at, expires_at = excluded.expires_at`,
};
const UPSERT_STEP = `INSERT INTO steps (${STEP_COLUMNS})
  VALUES ($1, $2, $3, $4, $5, $6::json, $7, $8::json, $9, $10, $11, $12, $13, $14::json)
  ON CONFLICT (run_id, key) DO UPDATE SET name = excluded.name, type = excluded.type, status = excluded.status,
    output = excluded.output, error = excluded.error, usage = excluded.usage, cost_usd = excluded.cost_usd,
    duration_ms = excluded.duration_ms, attempts = excluded.attempts, started_at = excluded.started_at,
    finished_at = excluded.finished_at, details = excluded.details`;
/**
 * A fenced write's first statement: the run still holds the claim (run-fence.ts). FOR SHARE keeps a
 * claim from committing until this transaction has: a claim is either before the write (which is then
 * refused) or after it (and reads what it wrote).
 */
const HOLDS_CLAIM = `SELECT 1 FROM runs WHERE id = $1 AND coalesce(metadata->>'resumes', '0') = $2 FOR SHARE`;

export class PostgresStore implements Store {
  /** Where the journal is, password hidden: safe to print. */
  readonly location: string;
  readonly schema: string | undefined;
  private readonly target: PostgresTarget;
  private readonly pool: pg.Pool;
  private readonly max: number;
  private ready: Promise<void> | undefined;
  private ended = false;

  constructor(url: string, options: PostgresStoreOptions = {}) {
    this.target = parsePostgresUrl(url);
    this.location = this.target.display;
    if (options.schema !== undefined) assertSchemaName(options.schema);
    this.schema = options.schema;
    this.max = options.max ?? 10;
    this.pool = new pg.Pool(
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
    const columns = RUN_COLUMNS.map(([, column]) => column);
    const placeholders = columns.map((c, i) => `$${i + 1}${JSON_COLUMNS.has(c) ? '::json' : ''}`);
    await this.query(
      `INSERT INTO runs (${columns.join(', ')}) VALUES (${placeholders.join(', ')})`,
      RUN_COLUMNS.map(([field, , kind]) => runValue(run, field, kind)),
    );
  }

  async updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>, fence?: RunFence): Promise<void> {
    const changed = RUN_COLUMNS.filter(([field]) => field !== 'id' && field in patch);
    if (changed.length === 0) return;
    const sets = changed.map(([, column], i) => `${column} = $${i + 2}${JSON_COLUMNS.has(column) ? '::json' : ''}`);
    const values = [id, ...changed.map(([field, , kind]) => runValue(patch, field, kind))];
    if (!fence) {
      await this.query(`UPDATE runs SET ${sets.join(', ')} WHERE id = $1`, values);
      return;
    }
    // Fenced: only while the run holds the claim — the same row, so the one statement is atomic.
    const claim = `coalesce(metadata->>'resumes', '0') = $${values.length + 1}`;
    const rows = await this.query(`UPDATE runs SET ${sets.join(', ')} WHERE id = $1 AND ${claim} RETURNING id`, [
      ...values,
      String(fence.claim),
    ]);
    if (rows.length === 0) throw new RunTakenOverError(id);
  }

  async claimRun(
    id: string,
    expected: Pick<RunRecord, 'status' | 'metadata'>,
    patch: Partial<Omit<RunRecord, 'id'>>,
  ): Promise<boolean> {
    const changed = RUN_COLUMNS.filter(([field]) => field !== 'id' && field in patch);
    const sets = changed.map(([, column], i) => `${column} = $${i + 4}${JSON_COLUMNS.has(column) ? '::json' : ''}`);
    const rows = await this.query(
      `UPDATE runs SET ${sets.join(', ')} WHERE id = $1 AND status = $2 AND metadata::text = $3 RETURNING id`,
      [
        id,
        expected.status,
        JSON.stringify(expected.metadata),
        ...changed.map(([field, , kind]) => runValue(patch, field, kind)),
      ],
    );
    return rows.length === 1;
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const rows = await this.query('SELECT * FROM runs WHERE id = $1', [id]);
    return rows[0] ? rowToRun(rows[0]) : undefined;
  }

  async listRuns(options: ListRunsOptions = {}): Promise<RunRecord[]> {
    const limit = options.limit ?? 50;
    const rows = options.status
      ? await this.query('SELECT * FROM runs WHERE status = $1 ORDER BY started_at DESC, id DESC LIMIT $2', [
          options.status,
          limit,
        ])
      : await this.query('SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT $1', [limit]);
    return rows.map(rowToRun);
  }

  async commitStep(step: StepRecord, events: EventRecord[] = [], fence?: RunFence): Promise<void> {
    await this.transaction(
      [{ text: UPSERT_STEP, values: stepParams(step) }, ...insertStatements(EVENT_INSERT, events.map(eventParams))],
      fence,
    );
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
    const latest = lastByKey(items, (i) => JSON.stringify([i.runId, i.stepKey, i.index]));
    await this.transaction(insertStatements(ITEM_INSERT, latest.map(itemParams)), fence);
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
         count(*) FILTER (WHERE status = 'failed' AND coalesce(error, '') NOT LIKE 'stopped: %') AS failed,
         count(*) FILTER (WHERE status = 'failed' AND coalesce(error, '') LIKE 'stopped: %') AS stopped
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
         coalesce(sum((usage->>'inputTokens')::bigint), 0)::float8 AS input_tokens,
         coalesce(sum((usage->>'outputTokens')::bigint), 0)::float8 AS output_tokens,
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
    await this.transaction(insertStatements(EVENT_INSERT, events.map(eventParams)), fence);
  }

  async getEvents(runId: string, afterSeq = 0, limit = 10_000): Promise<EventRecord[]> {
    const rows = await this.query('SELECT * FROM events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [
      runId,
      afterSeq,
      limit,
    ]);
    return rows.map(rowToEvent);
  }

  async putCall(call: CallRecord): Promise<void> {
    await this.putCalls([call]);
  }

  async putCalls(calls: CallRecord[]): Promise<void> {
    const latest = lastByKey(calls, (c) => c.key);
    await this.transaction(insertStatements(CALL_INSERT, latest.map(callParams)));
  }

  async getCall(key: string, now: number): Promise<CallRecord | undefined> {
    const rows = await this.query('SELECT * FROM calls WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)', [
      key,
      now,
    ]);
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
    await this.migrated();
    const result = await this.connected(() => this.pool.query<Row>(text, values.map(storable)));
    return result.rows;
  }

  /**
   * The statements in one transaction; a single statement is atomic on its own and skips BEGIN.
   * With `fence`, the transaction first checks that the run still holds that claim: RunTakenOverError if not.
   */
  private async transaction(statements: Statement[], fence?: RunFence): Promise<void> {
    if (statements.length === 0) return;
    if (statements.length === 1 && !fence) {
      const [only] = statements as [Statement];
      await this.query(only.text, only.values);
      return;
    }
    await this.migrated();
    await this.connected(async () => {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        if (fence && (await client.query(HOLDS_CLAIM, [fence.runId, String(fence.claim)])).rowCount === 0) {
          throw new RunTakenOverError(fence.runId);
        }
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
  return typeof value === 'string' && value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}
