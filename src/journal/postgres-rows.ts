// Records ↔ PostgreSQL rows. `json` columns come back as text (see poolConfig) and are parsed
// here, so that SQL NULL (an absent field: undefined) stays distinct from a JSON null value.
import { json } from './rows.js';
import type { CallRecord, EventRecord, ItemRecord, RunRecord, StepRecord } from './store.js';

export { json, type Row, rowToCall, rowToEvent, rowToItem, rowToRun, rowToStep } from './rows.js';

/** Run fields → columns, in the order of RUN_INSERT's parameters. */
export const RUN_COLUMNS: ReadonlyArray<[keyof RunRecord, string, 'json' | 'plain']> = [
  ['id', 'id', 'plain'],
  ['pipelineName', 'pipeline_name', 'plain'],
  ['pipelineFile', 'pipeline_file', 'plain'],
  ['pipelineHash', 'pipeline_hash', 'plain'],
  ['pipeline', 'pipeline', 'json'],
  ['inputs', 'inputs', 'json'],
  ['status', 'status', 'plain'],
  ['error', 'error', 'plain'],
  ['failedStep', 'failed_step', 'plain'],
  ['outputs', 'outputs', 'json'],
  ['startedAt', 'started_at', 'plain'],
  ['finishedAt', 'finished_at', 'plain'],
  ['totals', 'totals', 'json'],
  ['metadata', 'metadata', 'json'],
];

export function runValue(run: Partial<RunRecord>, field: keyof RunRecord, kind: 'json' | 'plain'): unknown {
  const value = run[field];
  return kind === 'json' ? json(value) : (value ?? null);
}

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
    s.costUsd,
    s.durationMs,
    s.attempts,
    s.startedAt,
    s.finishedAt,
    json(s.details),
  ];
}

export const ITEM_COLUMNS = 'run_id, step_key, idx, status, output, error, usage, cost_usd, attempts, duration_ms';
export const ITEM_TYPES = ['text', 'text', 'integer', 'text', 'json', 'text', 'json', 'float8', 'integer', 'float8'];

export function itemParams(i: ItemRecord): unknown[] {
  return [
    i.runId,
    i.stepKey,
    i.index,
    i.status,
    json(i.output),
    i.error ?? null,
    json(i.usage),
    i.costUsd,
    i.attempts,
    i.durationMs,
  ];
}

export const EVENT_COLUMNS = 'run_id, seq, type, at, data';
export const EVENT_TYPES = ['text', 'integer', 'text', 'bigint', 'json'];

export const eventParams = (e: EventRecord): unknown[] => [e.runId, e.seq, e.type, e.at, json(e.data)];

export const CALL_COLUMNS = 'key, provider, model, request, response, usage, cost_usd, created_at, expires_at';
export const CALL_TYPES = ['text', 'text', 'text', 'json', 'json', 'json', 'float8', 'bigint', 'bigint'];

export function callParams(c: CallRecord): unknown[] {
  return [
    c.key,
    c.provider,
    c.model,
    json(c.request),
    json(c.response),
    json(c.usage),
    c.costUsd,
    c.createdAt,
    c.expiresAt,
  ];
}
