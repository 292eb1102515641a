// The parent side of a batch spread over the cluster: its items are cut into chunks, each chunk a
// job of the `items` queue that any worker may take; the parent (the run's worker, holding its run
// slot but no item slot, so it cannot starve the items) waits until the journal has an outcome for
// every item. A parent that dies is resumed elsewhere and waits for the same chunk jobs.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RemoteBatch, RemoteBatchRequest, RemoteBatchStats } from '../engine/steps/batch-remote.js';
import { ElexirionError } from '../errors.js';
import type { Store } from '../journal/store.js';
import {
  batchCancelKey,
  chunkJobId,
  ITEM_JOB_OPTIONS,
  type ItemChunkData,
  type ItemChunkResult,
} from './item-queue.js';

export const DEFAULT_CHUNK_SIZE = 25;
const POLL_MS = 200;

export class BatchFanOut implements RemoteBatch {
  constructor(
    private readonly store: Store,
    private readonly queue: Queue<ItemChunkData, ItemChunkResult>,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly chunkSize = DEFAULT_CHUNK_SIZE,
  ) {}

  /** Top-level batches larger than one chunk; nested ones (keys with '/') run in the parent. */
  accepts(stepKey: string, total: number): boolean {
    return !stepKey.includes('/') && total > this.chunkSize;
  }

  async run(request: RemoteBatchRequest): Promise<RemoteBatchStats> {
    const { runId, stepKey, total, signal } = request;
    const ids: string[] = [];
    const jobs = [];
    for (let from = 0; from < total; from += this.chunkSize) {
      const jobId = chunkJobId(runId, stepKey, from);
      ids.push(jobId);
      const to = Math.min(total, from + this.chunkSize);
      jobs.push({
        name: 'items',
        data: { runId, stepKey, from, to, enqueuedAt: Date.now() },
        opts: { ...ITEM_JOB_OPTIONS, jobId },
      });
    }
    await this.queue.addBulk(jobs); // ids that exist already (a resumed parent) are left alone
    await this.retryFailedChunks(ids);

    for (let tick = 0; ; tick++) {
      if (signal.aborted) throw signal.reason;
      const counts = await this.store.countItems(runId, stepKey);
      const finished = counts.succeeded + counts.failed;
      request.onProgress(finished, counts.failed);
      if (request.failFast && counts.failed > 0) {
        await this.redis.set(batchCancelKey(this.prefix, runId, stepKey), '1', 'EX', 3600).catch(() => {});
        return this.stats(ids);
      }
      if (finished >= total) return this.stats(ids);
      if (tick % 10 === 9) await this.assertChunksAlive(ids, total - finished, stepKey);
      await sleep(POLL_MS, undefined, { signal }).catch(() => {});
    }
  }

  /** A resumed parent gives the chunks that gave up another chance (their finished items stay). */
  private async retryFailedChunks(ids: string[]): Promise<void> {
    for (const id of ids) {
      const job = await this.queue.getJob(id);
      if (job && (await job.isFailed())) await job.retry('failed');
    }
  }

  /** Every chunk job gave up while items have no outcome: they will never have one. */
  private async assertChunksAlive(ids: string[], missing: number, stepKey: string): Promise<void> {
    let failedReason: string | undefined;
    for (const id of ids) {
      const job = await this.queue.getJob(id);
      const state = job ? await job.getState() : 'missing';
      if (state === 'failed') failedReason ??= job?.failedReason;
      else if (state !== 'completed' && state !== 'missing') return; // still coming
    }
    throw new ElexirionError(
      `batch step "${stepKey}": ${missing} item(s) never ran on the cluster${failedReason ? `: ${failedReason}` : ''}`,
      { hint: 'look at the workers’ logs; resuming the run enqueues the missing items again' },
    );
  }

  private async stats(ids: string[]): Promise<RemoteBatchStats> {
    const total: RemoteBatchStats = { calls: 0, cacheHits: 0, retries: 0, costSavedUsd: 0 };
    for (const id of ids) {
      const value = (await this.queue.getJob(id))?.returnvalue;
      if (!value) continue;
      total.calls += value.calls;
      total.cacheHits += value.cacheHits;
      total.retries += value.retries;
      total.costSavedUsd += value.costSavedUsd;
    }
    return total;
  }
}
