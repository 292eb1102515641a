// The `items` queue: a job is a chunk of a batch's items [from, to) of one run's step. Its id is
// derived from the run, the step and the chunk, so that a parent that runs again (a resume on
// another worker) re-adds the same jobs — a no-op — instead of running the items twice.
import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ClusterConfig } from './connection.js';

export const ITEMS_QUEUE = 'items';

export interface ItemChunkData {
  runId: string;
  stepKey: string;
  from: number;
  to: number;
  enqueuedAt: number;
}

export interface ItemChunkResult {
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

export function chunkJobId(runId: string, stepKey: string, from: number): string {
  // BullMQ ids may not contain ':'; step keys never do ([a-z0-9_-] and '/').
  return `${runId}|${stepKey}|${from}`;
}

/** Redis key that tells the chunks of a failed batch (on_item_error: fail) to stop early. */
export function batchCancelKey(prefix: string, runId: string, stepKey: string): string {
  return `${prefix}:batch-cancel:${runId}|${stepKey}`;
}
