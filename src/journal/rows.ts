// Journal rows ↔ records, shared by the SQLite and PostgreSQL stores: both keep documents as JSON
// text in columns of the same names, and both keep SQL NULL (an absent field) apart from a JSON null.
import type { CallBill, CallRecord, EventRecord, ItemRecord, RunRecord, StepRecord } from './store.js';

export type Row = Record<string, unknown>;

/** A JSON document as stored: text, or NULL for an absent field. */
export const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
export const parse = (v: unknown): unknown => (v === null || v === undefined ? undefined : JSON.parse(v as string));

export function rowToRun(r: Row): RunRecord {
  const run: RunRecord = {
    id: r.id as string,
    pipelineName: r.pipeline_name as string,
    pipelineHash: r.pipeline_hash as string,
    pipeline: parse(r.pipeline),
    inputs: (parse(r.inputs) ?? {}) as Record<string, unknown>,
    status: r.status as RunRecord['status'],
    startedAt: r.started_at as number,
    totals: parse(r.totals) as RunRecord['totals'],
    metadata: (parse(r.metadata) ?? {}) as Record<string, unknown>,
  };
  if (r.pipeline_file !== null) run.pipelineFile = r.pipeline_file as string;
  if (r.error !== null) run.error = r.error as string;
  if (r.failed_step !== null) run.failedStep = r.failed_step as string;
  if (r.outputs !== null) run.outputs = parse(r.outputs) as Record<string, unknown>;
  if (r.finished_at !== null) run.finishedAt = r.finished_at as number;
  return run;
}

export function rowToStep(r: Row): StepRecord {
  const step: StepRecord = {
    runId: r.run_id as string,
    key: r.key as string,
    name: r.name as string,
    type: r.type as string,
    status: r.status as StepRecord['status'],
    usage: parse(r.usage) as StepRecord['usage'],
    costUsd: r.cost_usd as number | null,
    durationMs: r.duration_ms as number,
    attempts: r.attempts as number,
    startedAt: r.started_at as number,
    finishedAt: r.finished_at as number,
  };
  if (r.output !== null) step.output = parse(r.output);
  if (r.error !== null) step.error = r.error as string;
  if (r.details !== null) step.details = parse(r.details) as Record<string, unknown>;
  return step;
}

export function rowToItem(r: Row): ItemRecord {
  const item: ItemRecord = {
    runId: r.run_id as string,
    stepKey: r.step_key as string,
    index: r.idx as number,
    status: r.status as ItemRecord['status'],
    usage: parse(r.usage) as ItemRecord['usage'],
    costUsd: r.cost_usd as number | null,
    attempts: r.attempts as number,
    durationMs: r.duration_ms as number,
  };
  if (r.output !== null) item.output = parse(r.output);
  if (r.error !== null) item.error = r.error as string;
  if (r.calls !== null && r.calls !== undefined) item.calls = Number(r.calls);
  if (r.unpriced_calls !== null && r.unpriced_calls !== undefined) item.unpricedCalls = Number(r.unpriced_calls);
  return item;
}

export function rowToEvent(r: Row): EventRecord {
  return {
    runId: r.run_id as string,
    seq: r.seq as number,
    type: r.type as string,
    at: r.at as number,
    data: parse(r.data) as Record<string, unknown>,
  };
}

export function rowToCall(r: Row): CallRecord {
  const call: CallRecord = {
    key: r.key as string,
    provider: r.provider as string,
    model: r.model as string,
    request: parse(r.request),
    response: parse(r.response),
    usage: parse(r.usage) as CallRecord['usage'],
    costUsd: r.cost_usd as number | null,
    createdAt: r.created_at as number,
    expiresAt: r.expires_at as number | null,
  };
  if (r.paid_by !== null && r.paid_by !== undefined) call.paidBy = r.paid_by as string;
  if (r.bills !== null && r.bills !== undefined) call.bills = parse(r.bills) as CallBill[];
  return call;
}

// Records → column values, in the order of the column lists: both stores bind them by position.

/**
 * A cost as stored: a number, or NULL ("unknown price") for anything else — NaN and ±Infinity
 * included, as SQLite binds them, so that both stores read them back alike (PostgreSQL's float8
 * would keep a NaN, and every sum over it would be NaN).
 */
export const costValue = (cost: number | null | undefined): number | null =>
  typeof cost === 'number' && Number.isFinite(cost) ? cost : null;

export const STEP_COLUMNS =
  'run_id, key, name, type, status, output, error, usage, cost_usd, duration_ms, attempts, started_at, finished_at, details';

export function stepParams(s: StepRecord): unknown[] {
  return [
    s.runId,
    s.key,
    s.name,
    s.type,
    s.status,
    json(s.output),
    s.error ?? null,
    json(s.usage),
    costValue(s.costUsd),
    s.durationMs,
    s.attempts,
    s.startedAt,
    s.finishedAt,
    json(s.details),
  ];
}

// Newest columns last (`calls`, then `unpriced_calls`): a row logged before one existed
// (sqlite-writes.ts) is the same row without it and the columns after it.
export const ITEM_COLUMNS =
  'run_id, step_key, idx, status, output, error, usage, cost_usd, attempts, duration_ms, calls, unpriced_calls';
export function itemParams(i: ItemRecord): unknown[] {
  return [
    i.runId,
    i.stepKey,
    i.index,
    i.status,
    json(i.output),
    i.error ?? null,
    json(i.usage),
    costValue(i.costUsd),
    i.attempts,
    i.durationMs,
    i.calls ?? null,
    i.unpricedCalls ?? null,
  ];
}

// Newest column last (`paid_by`): a row logged before it existed (sqlite-writes.ts) lacks it.
export const CALL_COLUMNS = 'key, provider, model, request, response, usage, cost_usd, created_at, expires_at, paid_by';
export function callParams(c: CallRecord): unknown[] {
  return [
    c.key,
    c.provider,
    c.model,
    json(c.request),
    json(c.response),
    json(c.usage),
    costValue(c.costUsd),
    c.createdAt,
    c.expiresAt,
    c.paidBy ?? null,
  ];
}

/**
 * A putBill's values (both stores): the record's CALL_COLUMNS — written only where the key has no
 * record — then the bill as the one element of a JSON array (the `bills` column's form).
 */
export function billParams(c: CallRecord, bill: CallBill): unknown[] {
  return [
    ...callParams(c),
    JSON.stringify([{ paidBy: bill.paidBy, usage: bill.usage, costUsd: costValue(bill.costUsd) }]),
  ];
}
