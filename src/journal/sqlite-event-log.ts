// A run's event log in the SQLite journal. Events are written in groups, one row per commit, as a
// JSON array of [seq, type, at, data] (data without the `runId` the row holds already):
//  - the events committed with a step result ride in that step's own row (columns `events`,
//    `events_first`, `events_last` of `steps`): a sequential step's commit then touches the steps
//    table alone — 2.8 WAL frames instead of 5.0 with a row of its own in another table (measured,
//    bench/README.md), the largest part of what the journal costs a step;
//  - every other group (batch items, a run's start and end) is a row of `event_batches`.
// Rows never overlap in seq: a step row written again (a resume) or deleted (`resume --force`) first
// hands the events of its earlier commit to `event_batches` (triggers, migration 4), so that no event
// is ever overwritten or dropped.
import type Database from 'better-sqlite3';
import type { EventRecord } from './store.js';

/**
 * An event as the journal keeps it inside its row; `sameRun` (1) marks data whose `runId` — the
 * row's own — was left out (a fifth of a step's events in bytes), to be put back when read.
 */
type EventTuple = [seq: number, type: string, at: number, data: Record<string, unknown>, sameRun?: 1];

/** The events of one step commit, ready to be bound: JSON text, first and last seq. */
export type StepEventColumns = [events: string | null, first: number | null, last: number | null];

const NO_EVENTS: StepEventColumns = [null, null, null];

/** A row of `event_batches`: run, first and last seq, the events as JSON. */
export type EventBatchRow = [runId: string, first: number, last: number, events: string];

export class SqliteEventLog {
  private readonly stmts;

  constructor(db: Database.Database) {
    this.stmts = {
      insertBatch: db.prepare('INSERT INTO event_batches (run_id, first_seq, last_seq, events) VALUES (?, ?, ?, ?)'),
      // Batches from the one that holds seq @after + 1 (or the first) onwards.
      batchesAfter: db.prepare(
        `SELECT first_seq AS first, events FROM event_batches WHERE run_id = @run AND first_seq >= coalesce(
           (SELECT max(first_seq) FROM event_batches WHERE run_id = @run AND first_seq <= @after + 1), 0)`,
      ),
      stepEventsAfter: db.prepare(
        'SELECT events_first AS first, events FROM steps WHERE run_id = @run AND events_last > @after',
      ),
      // Read inside the JSON of the rows, by SQLite: a run has a few starts among all its events.
      executionStarts: db.prepare(
        `SELECT e.value ->> 0 AS seq, e.value ->> 2 AS at
           FROM steps, json_each(steps.events) AS e
          WHERE steps.run_id = @run AND steps.events IS NOT NULL AND e.value ->> 1 = 'pipeline.execution.start'
         UNION ALL
         SELECT e.value ->> 0, e.value ->> 2
           FROM event_batches, json_each(event_batches.events) AS e
          WHERE event_batches.run_id = @run AND e.value ->> 1 = 'pipeline.execution.start'
         ORDER BY 1`,
      ),
      lastSeq: db.prepare(
        `SELECT max(
           coalesce((SELECT last_seq FROM event_batches WHERE run_id = @run ORDER BY first_seq DESC LIMIT 1), 0),
           coalesce((SELECT max(events_last) FROM steps WHERE run_id = @run), 0)) AS seq`,
      ),
    };
  }

  /**
   * The columns of a step row that carry `events` (all of the step's own run; the caller writes any
   * other run's — there are none in practice — as batches). An earlier commit's events are moved
   * out of the row by a trigger when it is written again.
   */
  static stepColumns(events: EventRecord[]): StepEventColumns {
    if (events.length === 0) return NO_EVENTS;
    const tuples = tuplesOf(events);
    return [JSON.stringify(tuples), firstSeq(tuples), lastSeq(tuples)];
  }

  /** The rows of `event_batches` that hold `events`: one per run of consecutive events of a run. */
  static batchRows(events: EventRecord[]): EventBatchRow[] {
    const rows: EventBatchRow[] = [];
    let from = 0;
    while (from < events.length) {
      const runId = (events[from] as EventRecord).runId;
      let to = from + 1;
      while (to < events.length && (events[to] as EventRecord).runId === runId) to++;
      const [json, first, last] = SqliteEventLog.stepColumns(events.slice(from, to));
      rows.push([runId, first as number, last as number, json as string]);
      from = to;
    }
    return rows;
  }

  /** Inserts rows made by `batchRows`. */
  insert(rows: EventBatchRow[]): void {
    for (const row of rows) this.stmts.insertBatch.run(...row);
  }

  /** Events of `runId` after `afterSeq`, in seq order, at most `limit`. */
  read(runId: string, afterSeq: number, limit: number): EventRecord[] {
    const params = { run: runId, after: afterSeq };
    const rows = [
      ...(this.stmts.batchesAfter.all(params) as EventRow[]),
      ...(this.stmts.stepEventsAfter.all(params) as EventRow[]),
    ].sort((a, b) => a.first - b.first);
    const events: EventRecord[] = [];
    for (const row of rows) {
      for (const [seq, type, at, data, sameRun] of JSON.parse(row.events) as EventTuple[]) {
        if (seq <= afterSeq) continue;
        if (events.length === limit) return events;
        // Put back first, where the engine's events have it.
        events.push({ runId, seq, type, at, data: sameRun === 1 ? { runId, ...data } : data });
      }
    }
    return events;
  }

  /** Each `pipeline.execution.start` of `runId`: its seq and time, in seq order. */
  executionStarts(runId: string): Array<{ seq: number; at: number }> {
    return this.stmts.executionStarts.all({ run: runId }) as Array<{ seq: number; at: number }>;
  }

  lastSeq(runId: string): number {
    return (this.stmts.lastSeq.get({ run: runId }) as { seq: number }).seq;
  }
}

interface EventRow {
  first: number;
  events: string;
}

function tuplesOf(events: EventRecord[]): EventTuple[] {
  const tuples: EventTuple[] = events.map(tupleOf);
  // They come in order: no sort, no allocation.
  if (!ascending(tuples)) tuples.sort((a, b) => a[0] - b[0]);
  return tuples;
}

function tupleOf(e: EventRecord): EventTuple {
  if (e.data.runId !== e.runId) return [e.seq, e.type, e.at, e.data];
  const { runId: _runId, ...rest } = e.data;
  return [e.seq, e.type, e.at, rest, 1];
}

function ascending(tuples: EventTuple[]): boolean {
  for (let i = 1; i < tuples.length; i++)
    if ((tuples[i] as EventTuple)[0] < (tuples[i - 1] as EventTuple)[0]) return false;
  return true;
}

const firstSeq = (tuples: EventTuple[]): number => (tuples[0] as EventTuple)[0];
const lastSeq = (tuples: EventTuple[]): number => (tuples[tuples.length - 1] as EventTuple)[0];
