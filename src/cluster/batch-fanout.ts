// The parent side of a batch spread over the cluster: the batch becomes a BullMQ flow (see
// batch-flow.ts), a parent job on `batches` whose children are chunks of items on `items`, which
// any worker may take. The run's worker holds its run slot but no item slot (it cannot starve the
// items): it watches the parent job, and the batch ends when the flow does — completed (every chunk
// ended; the parent's return value holds their stats) or failed (a chunk gave up, with its reason).
//
// It watches by polling the parent job's state rather than by listening to queue events: a poll
// that a Redis restart interrupts simply waits for Redis and asks again, and a worker that takes
// the run over after a crash polls the same job — no event can be missed. The journal is read at a
// slower pace for progress and for `on_item_error: fail` (items fail in the journal, not in the flow).
import { setTimeout as sleep } from 'node:timers/promises';
import { FlowProducer, Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { BudgetExceededError } from '../budget/budget-guard.js';
import { StepTimeoutError } from '../engine/errors.js';
import type { RemoteBatch, RemoteBatchRequest, RemoteBatchStats } from '../engine/steps/batch-remote.js';
import { ElexirionError } from '../errors.js';
import type { Store } from '../journal/store.js';
import { type BatchJobData, type BatchJobResult, batchesQueue, batchFlow, batchJobId } from './batch-flow.js';
import {
  BATCH_CANCEL_TTL_S,
  BUDGET_REFUSED_TAG,
  batchCancelKey,
  ITEMS_QUEUE,
  type ItemChunkData,
  type ItemChunkResult,
  sumChunkResults,
} from './item-queue.js';
import { journalAway } from './journal-away.js';
import { runCancelKey } from './queues.js';

export const DEFAULT_CHUNK_SIZE = 25;
/** How often the parent job's state is asked: how soon the run goes on after its flow ends. */
const STATE_POLL_MS = 200;
/** How often the journal is counted, for progress and `on_item_error: fail`. */
const PROGRESS_POLL_MS = 500;
/** How long a run whose cancellation was asked is given to see it (the worker looks every 500 ms). */
const CANCEL_GRACE_MS = 2_000;
/** Parent job states in which the flow is still going. */
const LIVE = new Set(['waiting-children', 'waiting', 'active', 'delayed', 'prioritized']);
/** New flows one attempt at a batch starts for items a flow it followed ended without. */
const MAX_REFLOWS = 3;

export class BatchFanOut implements RemoteBatch {
  private readonly flows: FlowProducer;
  private readonly batches: Queue<BatchJobData, BatchJobResult>;
  private readonly items: Queue<ItemChunkData, ItemChunkResult>;

  /**
   * `traceparent`: the span of a run's step open on this worker, as a W3C traceparent (given when the
   * worker traces): a flow's chunks carry their batch step's, and their spans go under it.
   */
  constructor(
    private readonly store: Store,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly chunkSize = DEFAULT_CHUNK_SIZE,
    private readonly traceparent?: (runId: string, stepKey: string) => string | undefined,
  ) {
    this.flows = new FlowProducer({ connection: redis, prefix });
    this.batches = batchesQueue(redis, prefix);
    this.items = new Queue<ItemChunkData, ItemChunkResult>(ITEMS_QUEUE, { connection: redis, prefix });
  }

  /** Batches larger than one chunk (the engine asks only for top-level steps: see steps/batch.ts). */
  accepts(_stepKey: string, total: number): boolean {
    return total > this.chunkSize;
  }

  async run(request: RemoteBatchRequest): Promise<RemoteBatchStats> {
    // The generation followed now (a flow lost from Redis is created again, as the next one).
    const flow = { generation: await untilAborted(this.flowFor(request), request.signal) };
    try {
      return await this.follow(request, flow);
    } catch (error) {
      // The step's own timeout ends the batch: its chunks stop after their current items (a resume
      // runs the rest in a new flow). A run stopped for another reason — a worker draining, a
      // crash — keeps its flow going for the worker that takes the run over.
      if (request.signal.reason instanceof StepTimeoutError) {
        await this.giveUp(request, flow.generation).catch(() => {});
      }
      throw error;
    }
  }

  private async follow(request: RemoteBatchRequest, flow: { generation: number }): Promise<RemoteBatchStats> {
    let lastCount = 0;
    // The stats of the flows followed before this one (ended without some items: see completed()).
    let carried = sumChunkResults([]);
    let reflows = 0;
    for (;;) {
      const { signal } = request;
      if (signal.aborted) throw signal.reason;
      if (Date.now() - lastCount >= PROGRESS_POLL_MS) {
        lastCount = Date.now();
        // The journal away for a moment (its chunks wait it out too): the flow is followed on.
        const counts = await this.counted(request).catch((error: unknown) => {
          if (journalAway(error)) return undefined;
          throw error;
        });
        if (request.failFast && counts && counts.failed > 0) {
          // The batch has failed: its chunks stop after their current items; the step says why.
          await this.giveUp(request, flow.generation);
          return this.statsSoFar(request, flow.generation);
        }
      }
      const id = batchJobId(request.runId, request.stepKey, flow.generation);
      const state = await untilAborted(this.batches.getJobState(id), signal);
      if (state === 'completed') {
        const { stats, missing } = await this.completed(request, id);
        carried = sumChunkResults([carried, stats]);
        if (missing === 0) return carried;
        // Its chunks were cancelled, and the cancellation was lifted since (the run was resumed
        // while they finished their current items): the items left run in the next flow.
        if (reflows++ >= MAX_REFLOWS) throw neverRan(request, missing);
        flow.generation = await untilAborted(this.flowFor(request), signal);
        continue;
      }
      if (state === 'failed') throw await this.chunkFailure(request, flow.generation);
      // Gone (removed by hand, or a Redis without persistence restarted): a flow again, whose
      // chunks skip the items the journal has.
      if (state === 'unknown') flow.generation = await untilAborted(this.flowFor(request), signal);
      await sleep(STATE_POLL_MS, undefined, { signal }).catch(() => {});
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.flows.close(), this.batches.close(), this.items.close()]);
  }

  /**
   * The generation to wait for: the first whose flow is not spent — joined if it exists (a run
   * re-delivered after its worker died waits for the same chunks), else created now.
   */
  private async flowFor(request: RemoteBatchRequest): Promise<number> {
    const { runId, stepKey, total } = request;
    for (let generation = 0; ; generation++) {
      const state = await this.batches.getJobState(batchJobId(runId, stepKey, generation));
      if (state === 'unknown') {
        // The chunks read the run's steps so far from the journal (a budget's spend).
        await this.store.publish();
        // One transaction: the parent and all its chunks exist, or none does. A flow joined later (a
        // run taken over) keeps the step span of the execution that created it: a job's data is set.
        const traceparent = this.traceparent?.(runId, stepKey);
        await this.flows.add(batchFlow(runId, stepKey, generation, total, this.chunkSize, traceparent));
        return generation;
      }
      if (!(await this.spent(request, generation, state))) return generation;
    }
  }

  /**
   * A flow that a resume must not join: it failed, it was given up, or it completed without every
   * item succeeding (items failed under `on_item_error: continue`, or its chunks were cancelled) —
   * a resume runs those items again, as a local resume does.
   */
  private async spent(request: RemoteBatchRequest, generation: number, state: string): Promise<boolean> {
    if (state === 'failed') return true;
    const key = batchCancelKey(this.prefix, request.runId, request.stepKey, generation);
    if ((await this.redis.exists(key)) === 1) return true;
    if (LIVE.has(state)) return false;
    return (await this.store.countItems(request.runId, request.stepKey)).succeeded < request.total;
  }

  /**
   * The flow ended: every chunk has. The stats are the parent's return value; `missing`, the items
   * it ended without (its chunks were cancelled, and the run is not being cancelled now).
   */
  private async completed(
    request: RemoteBatchRequest,
    id: string,
  ): Promise<{ stats: RemoteBatchStats; missing: number }> {
    const stats = (await Job.fromId(this.batches, id))?.returnvalue ?? sumChunkResults([]);
    const counts = await this.counted(request);
    const missing = request.total - counts.succeeded - counts.failed;
    if (missing === 0 || (request.failFast && counts.failed > 0)) return { stats, missing: 0 };
    // Chunks end early only when cancelled: the run's cancellation reaches this run shortly.
    if ((await this.redis.exists(runCancelKey(this.prefix, request.runId))) === 1) {
      await sleep(CANCEL_GRACE_MS, undefined, { signal: request.signal }).catch(() => {});
      if (request.signal.aborted) throw request.signal.reason;
      throw neverRan(request, missing);
    }
    return { stats, missing };
  }

  /** A chunk failed all its attempts, which failed the parent: no item of it will ever run. */
  private async chunkFailure(request: RemoteBatchRequest, generation: number): Promise<ElexirionError> {
    await this.giveUp(request, generation); // the other chunks stop after their current items
    const parent = await Job.fromId(this.batches, batchJobId(request.runId, request.stepKey, generation));
    const [childKey] = (await parent?.getDependencies({ failed: { count: 1 } }))?.failed ?? [];
    const chunkId = childKey?.slice(`${this.prefix}:${ITEMS_QUEUE}:`.length);
    const chunk = chunkId ? await Job.fromId(this.items, chunkId) : undefined;
    const which = chunk ? `the chunk of items ${chunk.data.from}–${chunk.data.to - 1}` : 'a chunk of its items';
    const reason = chunk?.failedReason ?? parent?.failedReason ?? 'unknown reason';
    // Stopped by the run's budget: the run's limit, failed as such (resumable with a larger one).
    if (reason.startsWith(BUDGET_REFUSED_TAG))
      return new BudgetExceededError(reason.slice(BUDGET_REFUSED_TAG.length + 1));
    return new ElexirionError(
      `batch step "${request.stepKey}": ${which} failed on the cluster after ${chunk?.attemptsMade ?? 'all its'} attempt(s): ${reason}`,
      { hint: 'look at the workers’ logs; resuming the run runs the items without a result in a new flow' },
    );
  }

  private async giveUp(request: RemoteBatchRequest, generation: number): Promise<void> {
    const key = batchCancelKey(this.prefix, request.runId, request.stepKey, generation);
    await this.redis.set(key, '1', 'EX', BATCH_CANCEL_TTL_S);
  }

  /** What the chunks that ended so far counted (a batch that stopped early). */
  private async statsSoFar(request: RemoteBatchRequest, generation: number): Promise<RemoteBatchStats> {
    const parent = await Job.fromId(this.batches, batchJobId(request.runId, request.stepKey, generation));
    return sumChunkResults(Object.values((await parent?.getChildrenValues<ItemChunkResult>()) ?? {}));
  }

  private async counted(request: RemoteBatchRequest) {
    const counts = await this.store.countItems(request.runId, request.stepKey);
    request.onProgress(counts.succeeded + counts.failed, counts.failed);
    return counts;
  }
}

function neverRan(request: RemoteBatchRequest, missing: number): ElexirionError {
  return new ElexirionError(
    `batch step "${request.stepKey}": ${missing} item(s) never ran on the cluster (their chunks were cancelled)`,
    { hint: 'resume the run: a new flow runs the items without a result' },
  );
}

/** `promise`, or the signal's reason as soon as it aborts (a Redis outage must not hold a stop). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  promise.catch(() => {}); // settles later, unheeded, if the signal wins
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
