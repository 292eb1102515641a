// Gates of names pipelines declare for themselves (an inline pipeline may declare a new one on every
// request) are let go of when idle past a cap, so that they cannot grow for the life of the process;
// the gates of the built-in names and of the registry's own declarations are kept whatever their
// number, with their breakers. Only a gate a new one would replace exactly goes first; a gate with
// a call inside, a breaker failing calls fast or a local rate window never goes (gate-registry.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/schema.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import type { ProviderGate } from '../../src/resilience/provider-gate.js';

const signal = new AbortController().signal;
const once = { signal, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, jitter: false } };
const fault = (provider: string) => new ProviderError(provider, 'server', 'HTTP 500');

/** The gate of `name` as a pipeline of its own declares it (a new providers object, as a new request's). */
function gateOf(registry: GateRegistry, name: string, config: ProviderConfig = { type: 'mock' }): ProviderGate {
  return registry.forPipeline({ [name]: config }).gate(name);
}

const names = (registry: GateRegistry) => registry.summary().map((s) => s.provider);

describe('gates of names pipelines declare for themselves', () => {
  it('stay bounded however many names pipelines declare: idle ones are let go of, oldest first', async () => {
    const registry = new GateRegistry();
    for (let i = 0; i < 500; i++) {
      await gateOf(registry, `p_${i}`).execute(async () => 'ok', once);
    }
    expect(registry.all().length).toBeLessThanOrEqual(32); // the documented default cap
    // The newest are the ones kept.
    expect(names(registry)).toContain('p_499');
    expect(names(registry)).not.toContain('p_0');
    // A name let go of gets its gate again at its next call.
    const again = gateOf(registry, 'p_0');
    expect(await again.execute(async () => 'again', once)).toBe('again');
    expect(names(registry)).toContain('p_0');
  });

  it('keep the built-in names’ gates, and those the registry was built with, whatever their number', async () => {
    const registry = new GateRegistry(undefined, { house: { type: 'mock' } }, undefined, undefined, {
      maxPipelineGates: 3,
    });
    const anthropic = registry.gate('anthropic', { circuit_breaker: { failure_threshold: 1, recovery_timeout: '1h' } });
    await anthropic.execute(() => Promise.reject(fault('anthropic')), once).catch(() => {});
    expect(anthropic.circuitState).toBe('open');
    const openaiAtBox = gateOf(registry, 'openai', { base_url: 'http://gpu-box:8000/v1' });
    const house = registry.forPipeline(undefined).gate('house');
    for (let i = 0; i < 50; i++) gateOf(registry, `p_${i}`);
    expect(names(registry)).toEqual(expect.arrayContaining(['anthropic', 'openai', 'house']));
    expect(registry.gate('anthropic', { circuit_breaker: { failure_threshold: 1, recovery_timeout: '1h' } })).toBe(
      anthropic,
    );
    expect(anthropic.circuitState).toBe('open'); // its breaker too
    expect(gateOf(registry, 'openai', { base_url: 'http://gpu-box:8000/v1' })).toBe(openaiAtBox);
    expect(registry.forPipeline(undefined).gate('house')).toBe(house);
    expect(registry.all().length).toBeLessThanOrEqual(3 + 3);
  });

  it('never let go of a gate with a call inside — in flight, queued, or waiting between retries', async () => {
    const registry = new GateRegistry(undefined, {}, undefined, undefined, { maxPipelineGates: 2 });
    let release = () => {};
    const held = new Promise<string>((resolve) => {
      release = () => resolve('done');
    });
    const busy = gateOf(registry, 'busy', { type: 'mock', max_concurrency: 1 });
    const running = busy.execute(() => held, once);
    const queued = busy.execute(async () => 'queued', once);
    // A call between two attempts holds no slot, yet is inside the gate.
    const retrying = gateOf(registry, 'retrying');
    let attempts = 0;
    const backingOff = retrying.execute(
      async () => {
        attempts++;
        if (attempts === 1) throw new ProviderError('retrying', 'overloaded', 'busy');
        return 'second';
      },
      { signal, retry: { maxAttempts: 2, baseDelayMs: 200, maxDelayMs: 200, jitter: false } },
    );
    await sleep(20);
    expect(retrying.bulkhead.inFlight).toBe(0);
    for (let i = 0; i < 20; i++) gateOf(registry, `p_${i}`);
    expect(gateOf(registry, 'busy', { type: 'mock', max_concurrency: 1 })).toBe(busy);
    expect(gateOf(registry, 'retrying')).toBe(retrying);
    release();
    expect(await Promise.all([running, queued, backingOff])).toEqual(['done', 'queued', 'second']);
  });

  it('never let go of a breaker failing calls fast; one with faults counted goes only after the idle ones', async () => {
    const registry = new GateRegistry(undefined, {}, undefined, undefined, { maxPipelineGates: 3 });
    const breaker = { type: 'mock' as const, circuit_breaker: { failure_threshold: 2, recovery_timeout: '1h' } };
    const open = gateOf(registry, 'open', breaker);
    for (let i = 0; i < 2; i++) await open.execute(() => Promise.reject(fault('open')), once).catch(() => {});
    expect(open.circuitState).toBe('open');
    const faulty = gateOf(registry, 'faulty', breaker);
    await faulty.execute(() => Promise.reject(fault('faulty')), once).catch(() => {});
    expect(faulty.breaker.consecutiveFailures).toBe(1);
    // Full (3): the next name's gate makes room by letting go of an idle one, not of `faulty`.
    gateOf(registry, 'idle');
    gateOf(registry, 'next');
    expect(names(registry).sort()).toEqual(['faulty', 'next', 'open']);
    gateOf(registry, 'last');
    expect(names(registry).sort()).toEqual(['faulty', 'last', 'open']);
    // No idle one left (`last` has a fault counted too): the oldest that would lose only its fault
    // count goes; the open breaker stays.
    const last = gateOf(registry, 'last');
    await last.execute(() => Promise.reject(fault('last')), once).catch(() => {});
    gateOf(registry, 'final');
    expect(names(registry).sort()).toEqual(['final', 'last', 'open']);
    expect(gateOf(registry, 'open', breaker)).toBe(open);
    expect(open.circuitState).toBe('open');
  });

  it('never let go of a gate with a rate window of its own', async () => {
    const registry = new GateRegistry(undefined, {}, undefined, undefined, { maxPipelineGates: 1 });
    const limited = gateOf(registry, 'limited', { type: 'mock', rate_limit: { requests_per_minute: 1 } });
    await limited.execute(async () => 'ok', once);
    for (let i = 0; i < 5; i++) gateOf(registry, `p_${i}`);
    expect(gateOf(registry, 'limited', { type: 'mock', rate_limit: { requests_per_minute: 1 } })).toBe(limited);
  });
});
