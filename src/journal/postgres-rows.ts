// Records ↔ PostgreSQL rows. `json` columns come back as text (see poolConfig) and are parsed
// here, so that SQL NULL (an absent field: undefined) stays distinct from a JSON null value.
import { json } from './rows.js';
import type { EventRecord, RunRecord } from './store.js';

export {
  billParams,
  CALL_COLUMNS,
  callParams,
  ITEM_COLUMNS,
  itemParams,
  json,
  parse,
  type Row,
  rowToCall,
  rowToEvent,
  rowToItem,
  rowToRun,
  rowToStep,
  STEP_COLUMNS,
  stepParams,
} from './rows.js';

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

/** PostgreSQL types of STEP_COLUMNS (rows.ts): a step is inserted as a row of arrays, as items are. */
export const STEP_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'text',
  'json',
  'text',
  'json',
  'float8',
  'float8',
  'integer',
  'bigint',
  'bigint',
  'json',
];

/** PostgreSQL types of ITEM_COLUMNS (rows.ts), for the batched inserts. */
export const ITEM_TYPES = [
  'text',
  'text',
  'integer',
  'text',
  'json',
  'text',
  'json',
  'float8',
  'integer',
  'float8',
  'integer',
  'integer',
];

export const EVENT_COLUMNS = 'run_id, seq, type, at, data';
export const EVENT_TYPES = ['text', 'integer', 'text', 'bigint', 'json'];

export const eventParams = (e: EventRecord): unknown[] => [e.runId, e.seq, e.type, e.at, json(e.data)];

/** PostgreSQL types of CALL_COLUMNS (rows.ts). */
export const CALL_TYPES = ['text', 'text', 'text', 'json', 'json', 'json', 'float8', 'bigint', 'bigint', 'text'];
