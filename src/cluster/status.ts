// What `cluster status` shows: the live workers (their heartbeats) and the depth of each queue
// (runs, batch item chunks, and the batch flows' parents waiting for their chunks).
import type { Redis } from 'ioredis';
import { batchesQueue } from './batch-flow.js';
import type { ClusterConfig } from './connection.js';
import { readHeartbeats, type WorkerBeat } from './heartbeat.js';
import { itemsQueue } from './item-queue.js';
import { runsQueue } from './queues.js';

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
  /** Parents of batch flows whose chunks are still running (the `batches` queue only). */
  waitingChildren?: number;
}

export interface ClusterStatus {
  prefix: string;
  workers: WorkerBeat[];
  queues: { runs: QueueDepth; items: QueueDepth; batches: QueueDepth };
}

export async function clusterStatus(config: ClusterConfig, redis: Redis): Promise<ClusterStatus> {
  const runs = runsQueue(config, redis);
  const items = itemsQueue(config, redis);
  const batches = batchesQueue(redis, config.prefix);
  try {
    const depth = async (queue: typeof runs | typeof items | typeof batches): Promise<QueueDepth> => {
      const c = await queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'completed',
        'failed',
        'prioritized',
        'waiting-children',
      );
      return {
        waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
        ...(queue === batches ? { waitingChildren: c['waiting-children'] ?? 0 } : {}),
      };
    };
    return {
      prefix: config.prefix,
      workers: await readHeartbeats(redis, config.prefix),
      queues: { runs: await depth(runs), items: await depth(items), batches: await depth(batches) },
    };
  } finally {
    await runs.close();
    await items.close();
    await batches.close();
  }
}
