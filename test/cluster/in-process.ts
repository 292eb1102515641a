// What the tests that run ClusterWorker in-process (on the machine's Redis and PostgreSQL) share:
// short cluster timings, a harness torn down after each test with everything the test opened, and
// a wait on a condition (never on a duration).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach } from 'vitest';
import type { ClusterTiming } from '../../src/cluster/timing.js';
import { type ClusterHarness, clusterHarness } from './harness.js';

/** Locks and heartbeats short enough that a stall or a takeover happens within a test. */
export const FAST_TIMING: ClusterTiming = {
  lockMs: 1_000,
  stalledIntervalMs: 1_000,
  heartbeatMs: 300,
  leaseMs: 3_000,
  rateWindowMs: 60_000,
};

export interface InProcessCluster {
  /** A fresh harness (database and queue prefix of the test's own), cleaned up after the test. */
  harness(): Promise<ClusterHarness>;
  /** Run after the test, last registered first, before the harness goes. */
  cleanups: (() => Promise<unknown>)[];
}

/** Registers the after-each teardown of the calling test file. */
export function inProcessCluster(): InProcessCluster {
  let h: ClusterHarness | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    await h?.cleanup();
    h = undefined;
  });
  return {
    cleanups,
    harness: async () => {
      h = await clusterHarness();
      return h;
    },
  };
}

/** Polls `probe` every 50 ms until it gives a value (not undefined or false); fails after `ms`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  for (let t = 0; t < ms; t += 50) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}
