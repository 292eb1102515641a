// A batch spread over the cluster is one BullMQ flow: a parent job on the `batches` queue whose
// children are the batch's chunks on the `items` queue. BullMQ moves the parent to `wait` only once
// every child has ended; its processor (any worker's) then adds up the chunks' return values, which
// become the parent's return value — the batch's stats. A chunk that fails all its attempts fails
// the parent at once (failParentOnFailure), so the run's worker learns that items will never run.
//
// Generations: a flow is one attempt at the batch. Its ids carry a generation number, so that
//  - a run re-delivered after its worker died finds the flow of the generation in progress and
//    waits for it (same ids: no duplicate chunk jobs, no item run twice);
//  - a run resumed after its batch was given up (a chunk failed for good, or an item failed under
//    `on_item_error: fail`) starts the next generation, whose chunks run the items the journal does
//    not have as succeeded. `metadata.resumes` cannot tell those two cases apart (a worker runs
//    every run as a resume, and a re-delivery is one more), so the state of the flow itself does.
import { type FlowJob, type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { chunkJobId, ITEM_JOB_OPTIONS, ITEMS_QUEUE, type ItemChunkData, type ItemChunkResult } from './item-queue.js';

export const BATCHES_QUEUE = 'batches';

export interface BatchJobData {
  runId: string;
  stepKey: string;
  generation: number;
  /** Items of the batch and chunks of the flow. */
  total: number;
  chunks: number;
}

/** The summed stats of the batch's chunks. */
export type BatchJobResult = ItemChunkResult;

export const BATCH_JOB_OPTIONS: JobsOptions = {
  attempts: 3, // the processor only reads Redis: retried over a blip
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 24 * 3600, count: 100_000 },
  // Kept longer than its failed chunk (7 days): a failed generation must still be there when the
  // next one is chosen, or the ids of its chunks would be taken again.
  removeOnFail: { age: 30 * 24 * 3600 },
};

export function batchesQueue(connection: Redis, prefix: string): Queue<BatchJobData, BatchJobResult> {
  return new Queue<BatchJobData, BatchJobResult>(BATCHES_QUEUE, { connection, prefix });
}

export function batchJobId(runId: string, stepKey: string, generation: number): string {
  return `${runId}|${stepKey}|g${generation}`;
}

/**
 * Generation `generation` of the batch of `total` items: the parent and one child per chunk. Each
 * chunk carries `traceparent` (the batch step's span) when given.
 */
export function batchFlow(
  runId: string,
  stepKey: string,
  generation: number,
  total: number,
  chunkSize: number,
  traceparent?: string,
): FlowJob {
  const children: FlowJob[] = [];
  for (let from = 0; from < total; from += chunkSize) {
    const data: ItemChunkData = {
      runId,
      stepKey,
      generation,
      from,
      to: Math.min(total, from + chunkSize),
      enqueuedAt: Date.now(),
    };
    if (traceparent !== undefined) data.traceparent = traceparent;
    children.push({
      name: 'items',
      queueName: ITEMS_QUEUE,
      data,
      opts: { ...ITEM_JOB_OPTIONS, jobId: chunkJobId(runId, stepKey, generation, from), failParentOnFailure: true },
    });
  }
  const data: BatchJobData = { runId, stepKey, generation, total, chunks: children.length };
  return {
    name: 'batch',
    queueName: BATCHES_QUEUE,
    data,
    opts: { ...BATCH_JOB_OPTIONS, jobId: batchJobId(runId, stepKey, generation) },
    children,
  };
}
