// What `cluster status` shows: the live workers (their heartbeats) and the depth of each queue.
import type { Redis } from 'ioredis';
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
}

export interface ClusterStatus {
  prefix: string;
  workers: WorkerBeat[];
  queues: { runs: QueueDepth; items: QueueDepth };
}

export async function clusterStatus(config: ClusterConfig, redis: Redis): Promise<ClusterStatus> {
  const runs = runsQueue(config, redis);
  const items = itemsQueue(config, redis);
  try {
    const depth = async (queue: typeof runs | typeof items): Promise<QueueDepth> => {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
      return {
        waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
      };
    };
    return {
      prefix: config.prefix,
      workers: await readHeartbeats(redis, config.prefix),
      queues: { runs: await depth(runs), items: await depth(items) },
    };
  } finally {
    await runs.close();
    await items.close();
  }
}
