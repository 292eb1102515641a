// A worker's heartbeat: what it is doing and how it fares, in a Redis key that expires when the
// worker stops refreshing it (a dead worker disappears from `cluster status` by itself).
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { EventLoopMonitor } from '../health/event-loop.js';

export const DEFAULT_HEARTBEAT_MS = 5_000;

export interface WorkerBeat {
  id: string;
  pid: number;
  host: string;
  startedAt: number;
  at: number;
  concurrency: number;
  activeRuns: number;
  activeItems: number;
  draining: boolean;
  /**
   * Ids of the jobs (runs and item chunks) this worker is executing. A worker handed a job again
   * (its lock expired: a Redis outage, a frozen process) leaves it alone while a live worker holds it.
   */
  holds?: string[];
  eventLoopLagMs: { mean: number; p99: number; max: number };
  rssBytes: number;
  heapUsedBytes: number;
}

export function workerKey(prefix: string, id: string): string {
  return `${prefix}:workers:${id}`;
}

export function workerId(): string {
  return `${hostname()}:${process.pid}`;
}

export class Heartbeat {
  private readonly lag = new EventLoopMonitor();
  private readonly timer: NodeJS.Timeout;
  private readonly startedAt = Date.now();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly id: string,
    private readonly state: () => Pick<WorkerBeat, 'concurrency' | 'activeRuns' | 'activeItems' | 'draining' | 'holds'>,
    private readonly intervalMs = DEFAULT_HEARTBEAT_MS,
  ) {
    this.timer = setInterval(() => void this.beat().catch(() => {}), intervalMs);
    this.timer.unref();
  }

  async beat(): Promise<void> {
    const lag = this.lag.sample();
    const memory = process.memoryUsage();
    const beat: WorkerBeat = {
      id: this.id,
      pid: process.pid,
      host: hostname(),
      startedAt: this.startedAt,
      at: Date.now(),
      ...this.state(),
      eventLoopLagMs: { mean: lag.meanMs, p99: lag.p99Ms, max: lag.maxMs },
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
    };
    // Three missed beats and the worker is gone.
    await this.redis.set(workerKey(this.prefix, this.id), JSON.stringify(beat), 'PX', this.intervalMs * 3);
  }

  /** Stops beating; `removeKey` false leaves the key to expire (Redis away: a DEL would wait for it). */
  async stop(removeKey = true): Promise<void> {
    clearInterval(this.timer);
    this.lag.stop();
    if (removeKey) await this.redis.del(workerKey(this.prefix, this.id)).catch(() => {});
  }
}

/** Every live worker's last beat. */
export async function readHeartbeats(redis: Redis, prefix: string): Promise<WorkerBeat[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', workerKey(prefix, '*'), 'COUNT', 200);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await redis.mget(...keys);
  return values
    .filter((v): v is string => v !== null)
    .map((v) => JSON.parse(v) as WorkerBeat)
    .sort((a, b) => a.id.localeCompare(b.id));
}
