// What BullMQ itself holds about a batch's flow (and which workers took a queue's jobs): the parent job on the `batches` queue and its
// children on `items`, read from Redis the way an operator would — so that tests prove the flow,
// not only the run's outcome.
import { setTimeout as sleep } from 'node:timers/promises';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';

export interface ChunkView {
  id: string;
  state: string;
  from: number;
  to: number;
  failedReason?: string;
  returnvalue?: { calls: number };
}

export interface FlowView {
  state: string;
  returnvalue?: { calls: number; cacheHits: number; retries: number; costSavedUsd: number };
  failedReason?: string;
  /** The parent's children as BullMQ records them: processed (with values), unprocessed, failed. */
  processed: Record<string, unknown>;
  unprocessed: string[];
  failed: string[];
  chunks: ChunkView[];
}

/** Generation `generation` of the flow of `stepKey` of run `runId`; undefined when there is none. */
export async function flowOf(
  redisUrl: string,
  prefix: string,
  runId: string,
  stepKey: string,
  generation: number,
): Promise<FlowView | undefined> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const batches = new Queue('batches', { connection, prefix });
  const items = new Queue('items', { connection, prefix });
  try {
    const parent = await Job.fromId(batches, `${runId}|${stepKey}|g${generation}`);
    if (!parent) return undefined;
    const deps = await parent.getDependencies();
    const keys = [...Object.keys(deps.processed ?? {}), ...(deps.unprocessed ?? []), ...(deps.failed ?? [])];
    const chunks: ChunkView[] = [];
    for (const key of keys) {
      const id = key.slice(`${prefix}:items:`.length);
      const job = await Job.fromId(items, id);
      if (!job) continue;
      chunks.push({
        id,
        state: await job.getState(),
        from: job.data.from,
        to: job.data.to,
        ...(job.failedReason ? { failedReason: job.failedReason } : {}),
        ...(job.returnvalue ? { returnvalue: job.returnvalue } : {}),
      });
    }
    chunks.sort((a, b) => a.from - b.from);
    return {
      state: await parent.getState(),
      returnvalue: parent.returnvalue ?? undefined,
      ...(parent.failedReason ? { failedReason: parent.failedReason } : {}),
      processed: deps.processed ?? {},
      unprocessed: deps.unprocessed ?? [],
      failed: deps.failed ?? [],
      chunks,
    };
  } finally {
    await batches.close();
    await items.close();
    connection.disconnect();
  }
}

/** The flow once its parent job has left the states of a flow in progress. */
export async function endedFlowOf(
  redisUrl: string,
  prefix: string,
  runId: string,
  stepKey: string,
  generation: number,
  timeoutMs = 10_000,
): Promise<FlowView | undefined> {
  let flow = await flowOf(redisUrl, prefix, runId, stepKey, generation);
  for (let t = 0; t < timeoutMs && flow && flow.state !== 'completed' && flow.state !== 'failed'; t += 100) {
    await sleep(100);
    flow = await flowOf(redisUrl, prefix, runId, stepKey, generation);
  }
  return flow;
}

/** The workers that completed jobs of `queue`, from BullMQ's own record (job.processedBy). */
export async function workersThatTook(redisUrl: string, prefix: string, queue: string): Promise<Set<string>> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const q = new Queue(queue, { connection, prefix });
  try {
    // Failed too: a chunk stopped by the run's budget fails (it ran on its worker all the same).
    const jobs = await q.getJobs(['completed', 'failed'], 0, 10_000);
    return new Set(jobs.map((j) => j.processedBy).filter((w): w is string => typeof w === 'string'));
  } finally {
    await q.close();
    connection.disconnect();
  }
}
