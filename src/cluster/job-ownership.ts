// Who holds a job. BullMQ hands a job out again when its lock expires — its worker died, or Redis
// was away longer than a lock lives (ELEXIRION_CLUSTER_LOCK_MS) while the worker went on. The
// second case must not run a run (or a chunk of items) twice at once: every worker lists the jobs it
// executes in its heartbeat, and a worker handed a job again waits while a live worker lists it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { readHeartbeats, type WorkerBeat, workerKey } from './heartbeat.js';

/** Consecutive heartbeat periods a job must be unlisted before it counts as abandoned. */
const CLEAR_CHECKS = 2;

export class JobOwnership {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly self: string,
    private readonly heartbeatMs: number,
  ) {}

  /** Whether another live worker says it executes job `id`. */
  async heldElsewhere(id: string): Promise<boolean> {
    const beats = await readHeartbeats(this.redis, this.prefix);
    return beats.some((beat) => beat.id !== this.self && beat.holds?.includes(id));
  }

  /**
   * Whether worker `worker` lives and no longer executes job `id` (it gave it up: its lock lost).
   * Asked of two of its beats, the second written after this call began: the first may predate the
   * job's start there. False when the worker has no heartbeat (gone, or frozen: it may still run it).
   */
  async releasedBy(worker: string, id: string): Promise<boolean> {
    const asked = Date.now();
    for (let t = 0; t <= 3 * this.heartbeatMs; t += this.heartbeatMs / 4) {
      const text = await this.redis.get(workerKey(this.prefix, worker));
      if (text === null) return false;
      const beat = JSON.parse(text) as WorkerBeat;
      if (beat.holds?.includes(id)) return false;
      if (beat.at > asked) return true;
      await sleep(this.heartbeatMs / 4);
    }
    return false;
  }

  /**
   * Resolves once no other worker has listed job `id` for CLEAR_CHECKS heartbeat periods: after a
   * Redis outage every heartbeat may have expired, and a live holder needs one period to beat again.
   * A dead holder's heartbeat expires by itself (three periods), so this ends. Also resolves, at
   * once, when `signal` aborts (the worker drains: it hands the job back instead of waiting on).
   */
  async waitWhileHeldElsewhere(id: string, signal?: AbortSignal): Promise<void> {
    for (let clear = 0; !signal?.aborted; ) {
      clear = (await this.heldElsewhere(id)) ? 0 : clear + 1;
      if (clear >= CLEAR_CHECKS) return;
      await sleep(this.heartbeatMs, undefined, signal ? { signal } : {}).catch(() => {});
    }
  }
}
