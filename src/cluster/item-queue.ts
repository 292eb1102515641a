// The `items` queue: a job is a chunk of a batch's items [from, to) of one run's step, a child of
// the batch's flow (see batch-flow.ts). Its id is derived from the run, the step, the flow's
// generation and the chunk, so that a parent that runs again (a run re-delivered to another worker)
// finds the same jobs instead of running the items twice.
import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ClusterConfig } from './connection.js';

export const ITEMS_QUEUE = 'items';

export interface ItemChunkData {
  runId: string;
  stepKey: string;
  /** The batch flow this chunk belongs to (absent on chunks enqueued before flows). */
  generation?: number;
  from: number;
  to: number;
  enqueuedAt: number;
  /**
   * The batch step's span, as a W3C traceparent, when the run's worker traces: the chunk's span goes
   * under it (chunk-tracing.ts), on whichever worker runs the chunk. Absent otherwise.
   */
  traceparent?: string;
}

/**
 * What the chunk's journaled items counted, over every delivery of the chunk (chunk-stats.ts): a
 * chunk delivered again finds the items its first delivery ran done, and still reports them.
 */
export interface ItemChunkResult {
  /**
   * Their calls: BullMQ's record, never what the batch or the run counts — each item keeps its own
   * calls in the journal, and they are counted there.
   */
  calls: number;
  cacheHits: number;
  retries: number;
  costSavedUsd: number;
}

export const ITEM_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 24 * 3600, count: 100_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export function itemsQueue(config: ClusterConfig, connection: Redis): Queue<ItemChunkData, ItemChunkResult> {
  return new Queue<ItemChunkData, ItemChunkResult>(ITEMS_QUEUE, { connection, prefix: config.prefix });
}

export function chunkJobId(runId: string, stepKey: string, generation: number, from: number): string {
  // BullMQ ids may not contain ':'; step keys never do ([a-z0-9_-] and '/').
  return `${runId}|${stepKey}|g${generation}|${from}`;
}

/**
 * Redis key that tells the chunks of one flow of a batch to stop after their current items: the
 * flow was given up (an item failed under `on_item_error: fail`, or a chunk failed for good). It
 * also marks that flow as spent, so that a resume starts the next generation instead of joining it.
 */
export function batchCancelKey(prefix: string, runId: string, stepKey: string, generation?: number): string {
  return `${prefix}:batch-cancel:${runId}|${stepKey}${generation === undefined ? '' : `|g${generation}`}`;
}

/** As long as the chunks of a given-up flow may wait in a queue backlog. */
export const BATCH_CANCEL_TTL_S = 7 * 24 * 3600;

/**
 * Starts the failure reason of a chunk stopped by the run's budget: the run's worker fails the batch
 * with a BudgetExceededError (no `on_error` absorbs it), as on one machine.
 */
export const BUDGET_REFUSED_TAG = '[budget]';

/** The sum of chunks' call counts: a batch's stats. */
export function sumChunkResults(results: Iterable<ItemChunkResult>): ItemChunkResult {
  const total: ItemChunkResult = { calls: 0, cacheHits: 0, retries: 0, costSavedUsd: 0 };
  for (const r of results) {
    total.calls += r.calls;
    total.cacheHits += r.cacheHits;
    total.retries += r.retries;
    total.costSavedUsd += r.costSavedUsd;
  }
  return total;
}
