// A long-lived worker's shared gates keep state only for the gates with calls in flight: a server's
// inline pipelines may declare a new provider configuration on every request, and the registry lets
// their idle gates go (gate-registry.ts). SharedGates used to keep one entry per configuration for
// the life of the process — a map that only grew. On the real Redis, in-process.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { SharedGates } from '../../src/cluster/shared-gates.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { REDIS_URL } from './harness.js';
import { inProcessCluster } from './in-process.js';

const { cleanups } = inProcessCluster();
const ONCE = { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, jitter: false };
const LEASE_MS = 300;

function sharedGates(prefix: string): { gates: SharedGates; redis: Redis } {
  const redis = new Redis(REDIS_URL);
  const gates = new SharedGates(redis, prefix, LEASE_MS);
  cleanups.push(async () => {
    gates.close();
    redis.disconnect();
  });
  return { gates, redis };
}

describe('the shared gates of a long-lived worker', () => {
  it('keep nothing for a configuration once its calls have ended, however many there were', async () => {
    const { gates } = sharedGates(`elxtest-gatebound-${randomUUID()}`);
    const registry = new GateRegistry(new EventBus(), {}, gates.factory, undefined, { maxPipelineGates: 4 });
    const signal = new AbortController().signal;
    // A new inline provider name per "request", each with a real (shared) limit.
    for (let i = 0; i < 100; i++) {
      const name = `inline${i}`;
      const gate = registry.forPipeline({ [name]: { type: 'mock', max_concurrency: 2 } }).gate(name);
      let during = -1;
      await gate.execute(
        async () => {
          during = gates.trackedGates;
          return 'ok';
        },
        { signal, retry: ONCE },
      );
      expect(during).toBe(1); // its lease, renewed while the call runs
    }
    expect(gates.trackedGates).toBe(0);
  });

  it('still renews the leases of a call that outlives several lease periods', async () => {
    const prefix = `elxtest-gatebound-${randomUUID()}`;
    const { gates, redis } = sharedGates(prefix);
    const registry = new GateRegistry(new EventBus(), {}, gates.factory);
    const gate = registry.forPipeline({ held: { type: 'mock', max_concurrency: 1 } }).gate('held');
    let end!: () => void;
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    const call = gate.execute(() => ended.then(() => 'ok'), { signal: new AbortController().signal, retry: ONCE });
    await sleep(4 * LEASE_MS); // unrenewed, its lease would have expired three times over
    const [leases] = await redis.keys(`${prefix}:gate:held:*:leases`);
    expect(await redis.zcount(leases as string, Date.now(), '+inf')).toBe(1);
    end();
    await call;
    expect(gates.trackedGates).toBe(0);
  });
});
