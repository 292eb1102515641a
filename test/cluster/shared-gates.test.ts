// The shared gates on the real Redis, in-process: two "workers" (two SharedGates on one prefix)
// share a provider's slots, and a breaker opened on one makes the other fail fast.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedGates } from '../../src/cluster/shared-gates.js';
import { CircuitOpenError } from '../../src/resilience/circuit-breaker.js';
import { resolveGateOptions } from '../../src/resilience/gate-options.js';
import { REDIS_URL } from './harness.js';

const open: { gates: SharedGates; redis: Redis }[] = [];
afterEach(async () => {
  for (const { gates, redis } of open.splice(0)) {
    gates.close();
    redis.disconnect();
  }
});

function worker(prefix: string, leaseMs = 10_000) {
  const redis = new Redis(REDIS_URL);
  const gates = new SharedGates(redis, prefix, leaseMs);
  open.push({ gates, redis });
  return { gates };
}

describe('shared gates', () => {
  it('admits max_concurrency calls across workers together, and the next when one is released', async () => {
    const prefix = `elxtest-gate-${randomUUID()}`;
    const options = resolveGateOptions('anthropic', { max_concurrency: 2 });
    const a = worker(prefix).gates.factory('anthropic', options);
    const b = worker(prefix).gates.factory('anthropic', options);
    const signal = new AbortController().signal;
    const releaseA = await a?.acquire(signal);
    await b?.acquire(signal);
    let third = false;
    const waiting = a?.acquire(signal).then((release) => {
      third = true;
      return release;
    });
    await sleep(150);
    expect(third).toBe(false);
    releaseA?.();
    (await waiting)?.();
    expect(third).toBe(true);
  });

  it('a dead worker’s slots come back when their leases expire', async () => {
    const prefix = `elxtest-gate-${randomUUID()}`;
    const options = resolveGateOptions('anthropic', { max_concurrency: 1 });
    const dead = worker(prefix, 300);
    await dead.gates.factory('anthropic', options)?.acquire(new AbortController().signal);
    dead.gates.close(); // stops renewing, as a killed process would
    const t0 = Date.now();
    await worker(prefix).gates.factory('anthropic', options)?.acquire(new AbortController().signal);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
  });

  it('a breaker that opens on one worker makes the others fail fast until it closes', async () => {
    const prefix = `elxtest-gate-${randomUUID()}`;
    const options = resolveGateOptions('anthropic', { max_concurrency: 5 });
    const one = worker(prefix);
    const other = worker(prefix);
    const local = one.gates.factory('anthropic', options);
    const admission = other.gates.factory('anthropic', options);
    local?.circuit?.('open'); // what the gate does when its own breaker opens
    await sleep(50);
    await expect(admission?.acquire(new AbortController().signal)).rejects.toBeInstanceOf(CircuitOpenError);
    local?.circuit?.('closed');
    await sleep(50);
    const release = await admission?.acquire(new AbortController().signal);
    expect(typeof release).toBe('function');
  });

  it('leaves an unbounded provider (the mock) to the local gate: no Redis round trip', () => {
    const gates = worker(`elxtest-gate-${randomUUID()}`).gates;
    expect(gates.factory('mock', resolveGateOptions('mock'))).toBeUndefined();
  });
});
