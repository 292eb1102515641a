// The cluster's shared gate state is kept per gate (provider name, endpoint and settings: its gate
// id), not per provider name: on the real Redis, with two in-process ClusterWorkers (not started:
// the test calls through each one's own gates, as its runs would), two configurations of
// `anthropic` hold their own leases, rate windows and breaker marks, while one configuration keeps
// one lease set across the workers.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SharedGates } from '../../src/cluster/shared-gates.js';
import { ClusterWorker } from '../../src/cluster/worker.js';
import type { ProviderConfig } from '../../src/config/schema.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { CircuitOpenError } from '../../src/resilience/circuit-breaker.js';
import { gateId, gateIdentity } from '../../src/resilience/gate-key.js';
import { resolveGateOptions } from '../../src/resilience/gate-options.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import type { ProviderGate } from '../../src/resilience/provider-gate.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { REDIS_URL } from './harness.js';
import { FAST_TIMING, inProcessCluster, until } from './in-process.js';

const { cleanups } = inProcessCluster();

// Two configurations of one name in a process are what these tests are about: the registry's
// warning about them (ELEXIRION_GATE_CONFIGURATIONS) is expected, and kept off the output.
beforeEach(() => {
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  vi.spyOn(process, 'emitWarning').mockImplementation((...args: unknown[]) => {
    const options = args[1] as { code?: string } | undefined;
    if (options?.code !== 'ELEXIRION_GATE_CONFIGURATIONS') emit(...args);
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const RATE_WINDOW_MS = 600;
/** Long enough for a call that would be admitted to be (a few Redis round trips), short for CI. */
const ADMITTED_WITHIN_MS = 1_000;
/** How long a call that must wait is watched not starting. */
const STILL_WAITING_MS = 150;
const ONCE = { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, jitter: false };

function cluster(): { prefix: string; redis: Redis; worker(): ClusterWorker } {
  const prefix = `elxtest-gatecfg-${randomUUID()}`;
  const redis = new Redis(REDIS_URL);
  cleanups.push(async () => redis.disconnect());
  return {
    prefix,
    redis,
    worker: () => {
      const store = new SqliteStore(':memory:');
      cleanups.push(async () => store.close());
      const worker = new ClusterWorker({
        config: { redisUrl: REDIS_URL, prefix },
        store,
        env: process.env,
        concurrency: 1,
        timing: { ...FAST_TIMING, rateWindowMs: RATE_WINDOW_MS },
      });
      cleanups.push(() => worker.drain());
      return worker;
    },
  };
}

/** The `anthropic` gate of a pipeline declaring `config` for it, on `worker`. */
function gateOf(worker: ClusterWorker, config: ProviderConfig): ProviderGate {
  // A fresh object per call, as each pipeline loaded on each worker has its own.
  return worker.engine.gates.forPipeline({ anthropic: { ...config } }).gate('anthropic');
}

/** The id every worker gives the gate of `config` (the middle of its Redis keys). */
function idOf(config: ProviderConfig): string {
  return gateId(gateIdentity('anthropic', config, resolveGateOptions('anthropic', config)).key);
}

interface HeldCall {
  /** True once the call passed every gate and reached the "provider". */
  started(): boolean;
  /** Ends the call (with success) and waits for it to leave the gate. */
  finish(): Promise<void>;
}

/** A call through `gate` that holds its slot until finished. */
function hold(gate: ProviderGate): HeldCall {
  let started = false;
  let end!: () => void;
  const ended = new Promise<void>((resolve) => {
    end = resolve;
  });
  const done = gate.execute(
    async () => {
      started = true;
      await ended;
      return 'ok';
    },
    { signal: new AbortController().signal, retry: ONCE },
  );
  done.catch(() => {}); // awaited in finish(); a test that fails early must not leave it unhandled
  cleanups.push(async () => end());
  return {
    started: () => started,
    finish: async () => {
      end();
      await done;
    },
  };
}

async function admitted(call: HeldCall, what: string): Promise<void> {
  await until(what, async () => call.started(), ADMITTED_WITHIN_MS);
}

describe('cluster gates per configuration', () => {
  it('two configurations of one provider name hold their own leases across workers', async () => {
    const c = cluster();
    const [w1, w2] = [c.worker(), c.worker()];
    const one = { max_concurrency: 1 };
    const two = { max_concurrency: 2 };

    const a = hold(gateOf(w1, one));
    await admitted(a, 'the max_concurrency: 1 call');
    // The other configuration's two slots are its own: the first one's lease takes none of them.
    const b1 = hold(gateOf(w2, two));
    const b2 = hold(gateOf(w2, two));
    await admitted(b1, 'the first max_concurrency: 2 call');
    await admitted(b2, 'the second max_concurrency: 2 call, beside the max_concurrency: 1 lease');
    // Each is still held to its own limit across the workers.
    const b3 = hold(gateOf(w1, two));
    const a2 = hold(gateOf(w2, one));
    await sleep(STILL_WAITING_MS);
    expect(b3.started()).toBe(false);
    expect(a2.started()).toBe(false);
    await b1.finish();
    await admitted(b3, 'the third max_concurrency: 2 call, once one of its two ended');
    expect(a2.started()).toBe(false);
    await a.finish();
    await admitted(a2, 'the second max_concurrency: 1 call, once the first ended');
    await Promise.all([b2.finish(), b3.finish(), a2.finish()]);
  });

  it('one configuration on two workers shares one lease set, kept under its gate id', async () => {
    const c = cluster();
    const [w1, w2] = [c.worker(), c.worker()];
    const config = { max_concurrency: 1, base_url: 'http://a.test' };

    const first = hold(gateOf(w1, config));
    await admitted(first, 'the first call');
    expect(await c.redis.zcard(`${c.prefix}:gate:anthropic:${idOf(config)}:leases`)).toBe(1);
    expect(await c.redis.exists(`${c.prefix}:gate:anthropic:leases`)).toBe(0);
    const second = hold(gateOf(w2, config)); // declared alike by another pipeline object, on the other worker
    await sleep(STILL_WAITING_MS);
    expect(second.started()).toBe(false);
    await first.finish();
    await admitted(second, 'the second call, once the first ended');
    await second.finish();
  });

  it('a breaker opened for one base_url fails fast that base_url on every worker, not another of the same name', async () => {
    const c = cluster();
    const [w1, w2] = [c.worker(), c.worker()];
    const breaker = { failure_threshold: 1, recovery_timeout: '5s' };
    const down = { base_url: 'http://down.test', circuit_breaker: breaker };
    const up = { base_url: 'http://up.test', circuit_breaker: breaker };

    // w1 has a call to the healthy server in flight while the other server's breaker opens there:
    // both of the name's gates are busy on w1, and only the failing one is marked.
    const inFlight = hold(gateOf(w1, up));
    await admitted(inFlight, 'the call to the healthy server');
    const fault = gateOf(w1, down).execute(
      async () => {
        throw new ProviderError('anthropic', 'server', 'HTTP 500');
      },
      { signal: new AbortController().signal, retry: ONCE },
    );
    await expect(fault).rejects.toBeInstanceOf(CircuitOpenError); // the fault that opened it
    // w1 writes its mark without waiting for Redis: wait for it, under whatever key it is kept.
    const marks = await until(
      'a breaker mark',
      async () => {
        const keys = await c.redis.keys(`${c.prefix}:gate:anthropic*:breaker`);
        return keys.length > 0 && keys;
      },
      ADMITTED_WITHIN_MS,
    );

    let called = false;
    const call = (gate: ProviderGate) =>
      gate.execute(
        async () => {
          called = true;
          return 'ok';
        },
        { signal: new AbortController().signal, retry: ONCE },
      );
    // w2 has seen no fault: the mark makes it fail fast for the failing server, without a call…
    await expect(call(gateOf(w2, down))).rejects.toBeInstanceOf(CircuitOpenError);
    expect(called).toBe(false);
    // …and leaves its calls of the same name to the healthy server alone, as on w1.
    await expect(call(gateOf(w2, up))).resolves.toBe('ok');
    await expect(call(gateOf(w1, up))).resolves.toBe('ok');
    await inFlight.finish();
    expect(marks).toEqual([`${c.prefix}:gate:anthropic:${idOf(down)}:breaker`]);
  });

  it('two rate_limits of one name draw on their own windows; one rate_limit on one window across workers', async () => {
    const c = cluster();
    const [w1, w2] = [c.worker(), c.worker()];
    const two = { rate_limit: { requests_per_minute: 2 } };
    const three = { rate_limit: { requests_per_minute: 3 } };
    const call = (gate: ProviderGate) =>
      gate.execute(async () => 'ok', { signal: new AbortController().signal, retry: ONCE });

    const t0 = Date.now();
    await call(gateOf(w1, two));
    await call(gateOf(w2, two));
    // The other configuration's window is empty: its three calls go at once.
    for (const worker of [w1, w2, w1]) await call(gateOf(worker, three));
    expect(Date.now() - t0).toBeLessThan(RATE_WINDOW_MS / 2);
    // The first configuration's third call waits for its window, on either worker.
    await call(gateOf(w2, two));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(RATE_WINDOW_MS - 50);
  });

  it('during a rolling upgrade, a lease an older worker holds under the per-name key does not block a gate-id lease', async () => {
    const c = cluster();
    // An older worker: its gates give no id, so its leases live under the provider name.
    const redis = new Redis(REDIS_URL);
    const older = new SharedGates(redis, c.prefix, FAST_TIMING.leaseMs);
    cleanups.push(async () => {
      older.close();
      redis.disconnect();
    });
    const config = { max_concurrency: 1 };
    const options = resolveGateOptions('anthropic', config);
    await older.factory('anthropic', options)?.acquire(new AbortController().signal);
    expect(await c.redis.zcard(`${c.prefix}:gate:anthropic:leases`)).toBe(1);

    // The same configuration on an upgraded worker counts its own leases (for as long as both
    // versions run, each may have its limit in flight); the old lease expires with its worker.
    const call = hold(gateOf(c.worker(), config));
    await admitted(call, 'the upgraded worker’s call');
    await call.finish();
  });
});

// Each gate tells its own shared admission of its breaker's changes (SharedAdmission.circuit): a
// breaker of one gate of a name is marked for that gate only, however many gates the name has.
describe('a gate’s breaker is shared for that gate only', () => {
  it('marks the gate whose breaker changed, not the other gates of its name', async () => {
    const prefix = `elxtest-gatecfg-${randomUUID()}`;
    const redis = new Redis(REDIS_URL);
    const gates = new SharedGates(redis, prefix, FAST_TIMING.leaseMs);
    cleanups.push(async () => {
      gates.close();
      redis.disconnect();
    });
    const registry = new GateRegistry(new EventBus(), {}, gates.factory);
    const config = { failure_threshold: 2, recovery_timeout: '10s' };
    const failing = registry.forPipeline({ anthropic: { base_url: 'http://a.invalid', circuit_breaker: config } });
    const healthy = registry.forPipeline({ anthropic: { base_url: 'http://b.invalid', circuit_breaker: config } });
    const b = healthy.gate('anthropic');
    const a = failing.gate('anthropic');
    expect(a).not.toBe(b);
    const signal = new AbortController().signal;
    const fault = () => Promise.reject(new ProviderError('anthropic', 'server', 'boom'));
    for (let i = 0; i < 2; i++) await a.breaker.execute(fault, signal).catch(() => {});
    expect(a.circuitState).toBe('open');
    await new Promise((resolve) => setTimeout(resolve, 50)); // the mark is written without waiting
    const marks = await redis.keys(`${prefix}:gate:anthropic*:breaker`);
    expect(marks).toHaveLength(1);
    expect(marks[0]).not.toBe(`${prefix}:gate:anthropic:breaker`);
  });
});
