// Which calls share a gate: one gate per provider name, endpoint and effective settings, shared by
// every pipeline of the process that declares the provider alike (src/resilience/gate-registry.ts).
// Before, the first pipeline to call a provider configured its gate for the whole process.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProviderConfig } from '../../src/config/schema.js';
import type { Usage } from '../../src/providers/provider.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import type { GateOptions } from '../../src/resilience/gate-options.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { createModelCaller } from '../../src/resilience/model-caller.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { answer, request, StubProvider, waitOrAbort } from './stub-provider.js';

/** The process warnings emitted by the test (kept off the output). */
let warnings: string[] = [];
beforeEach(() => {
  const seen: string[] = [];
  warnings = seen;
  vi.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error) => {
    seen.push(typeof warning === 'string' ? warning : warning.message);
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const ONE_ATTEMPT = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, jitter: false };

describe('GateRegistry: a gate per provider name, endpoint and settings', () => {
  it('gives a provider declared with other limits a gate of its own, whichever came first', () => {
    for (const [first, second] of [
      [20, 2],
      [2, 20],
    ] as const) {
      const registry = new GateRegistry();
      const a = registry.gate('anthropic', { max_concurrency: first });
      const b = registry.gate('anthropic', { max_concurrency: second });
      expect(a.options.maxConcurrency).toBe(first);
      expect(b.options.maxConcurrency).toBe(second);
      expect(b).not.toBe(a);
      // Declared alike (another object, the same settings): the same gate.
      expect(registry.gate('anthropic', { max_concurrency: second })).toBe(b);
      expect(registry.all()).toHaveLength(2);
    }
  });

  it('tells every gate setting and the endpoint apart; the defaults spelled out are the defaults (but a timeout)', () => {
    const registry = new GateRegistry();
    const plain = registry.gate('openai');
    const others: ProviderConfig[] = [
      { max_concurrency: 3 },
      { max_queue: 5 },
      { timeout: '10s' },
      { circuit_breaker: { failure_threshold: 2 } },
      { circuit_breaker: { recovery_timeout: '5s' } },
      { rate_limit: { requests_per_minute: 50 } },
      { rate_limit: { tokens_per_minute: 40_000 } },
      { base_url: 'http://127.0.0.1:8000/v1' },
      { api_key_env: 'TEAM_B_OPENAI_KEY' },
      { type: 'mock' },
    ];
    const gates = others.map((config) => registry.gate('openai', config));
    expect(new Set([plain, ...gates]).size).toBe(others.length + 1);
    // The effective settings are the key, not how they are written.
    expect(registry.gate('openai', {})).toBe(plain);
    expect(
      registry.gate('openai', {
        type: 'openai',
        max_concurrency: 10,
        max_queue: 1000,
        circuit_breaker: { failure_threshold: 5, recovery_timeout: '30s' },
      }),
    ).toBe(plain);
    // A declared `timeout: 300s` caps a longer step timeout, where the 300 s default does not.
    expect(registry.gate('openai', { timeout: '300s' })).not.toBe(plain);
    expect(registry.gate('openai', { base_url: 'http://127.0.0.1:8000/v1/' })).toBe(gates[7]);
  });

  it('keeps the breaker of one endpoint away from another endpoint of the same name', async () => {
    const registry = new GateRegistry();
    const limits = { type: 'openai', circuit_breaker: { failure_threshold: 1 } } as const;
    const a = registry.gate('local', { ...limits, base_url: 'http://gpu-a:8000/v1' });
    const b = registry.gate('local', { ...limits, base_url: 'http://gpu-b:8000/v1' });
    const failing = () => Promise.reject(new ProviderError('local', 'server', 'gpu-a is down', { status: 500 }));
    await expect(a.execute(failing, { signal: new AbortController().signal, retry: ONE_ATTEMPT })).rejects.toThrow();
    expect(a.circuitState).toBe('open');
    expect(b.circuitState).toBe('closed');
  });

  it('warns once when an endpoint gets a second configuration, naming what differs', () => {
    const registry = new GateRegistry();
    registry.gate('anthropic', { max_concurrency: 20, rate_limit: { requests_per_minute: 50 } });
    registry.gate('anthropic', { max_concurrency: 20, rate_limit: { requests_per_minute: 50 } });
    expect(warnings).toEqual([]);
    registry.gate('anthropic', { max_concurrency: 2 });
    registry.gate('anthropic', { max_concurrency: 2 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('provider "anthropic"');
    expect(warnings[0]).toContain('max_concurrency 20 / 2, rate_limit.requests_per_minute 50 / none');
    expect(warnings[0]).toContain('add up');
    registry.gate('anthropic', { timeout: '90s' });
    expect(warnings[1]).toContain('timeout none / 90s');
    // Another endpoint under the same name is no second configuration of it.
    registry.gate('local', { type: 'openai', base_url: 'http://gpu-a:8000/v1' });
    registry.gate('local', { type: 'openai', base_url: 'http://gpu-b:8000/v1', max_concurrency: 2 });
    expect(warnings).toHaveLength(2);
  });

  it('hands the cluster factories a gate id that tells configurations apart, the same in every process', () => {
    const ids = (...configs: ProviderConfig[]) => {
      const seen: Array<[string, GateOptions, string | undefined]> = [];
      const registry = new GateRegistry(
        undefined,
        {},
        (provider, options, id) => {
          seen.push([provider, options, id]);
          return undefined;
        },
        () => undefined,
      );
      for (const config of configs) registry.gate('anthropic', config);
      return seen.map(([provider, options, id]) => `${provider}:${options.maxConcurrency}:${id}`);
    };
    const [twenty, two] = ids({ max_concurrency: 20 }, { max_concurrency: 2 });
    expect(twenty).not.toBe(two);
    expect(twenty?.split(':')[2]).not.toBe(two?.split(':')[2]);
    expect(ids({ max_concurrency: 2 })).toEqual([two]);
  });

  it('summary() gives one line per provider name: counts summed, the worst circuit state', async () => {
    const registry = new GateRegistry();
    const fast = registry.gate('anthropic', { max_concurrency: 20, circuit_breaker: { failure_threshold: 1 } });
    registry.gate('anthropic', { max_concurrency: 2 });
    registry.gate('gemini');
    let release: () => void = () => {};
    const held = fast.execute(() => new Promise<void>((resolve) => (release = resolve)), {
      signal: new AbortController().signal,
    });
    expect(registry.summary()).toEqual([
      { provider: 'anthropic', gates: 2, inFlight: 1, queued: 0, circuit: 'closed' },
      { provider: 'gemini', gates: 1, inFlight: 0, queued: 0, circuit: 'closed' },
    ]);
    release();
    await held;
    const failing = () => Promise.reject(new ProviderError('anthropic', 'server', 'down', { status: 500 }));
    await expect(fast.execute(failing, { signal: new AbortController().signal, retry: ONE_ATTEMPT })).rejects.toThrow();
    expect(registry.summary()[0]).toMatchObject({ provider: 'anthropic', inFlight: 0, circuit: 'open' });
  });
});

describe('GateRegistry.forPipeline: the gates as one pipeline declares them', () => {
  it('gives each pipeline its own declaration, shares a gate between pipelines that declare alike', () => {
    const registry = new GateRegistry();
    const a = registry.forPipeline({ anthropic: { max_concurrency: 20 } });
    const b = registry.forPipeline({ anthropic: { max_concurrency: 2 } });
    const c = registry.forPipeline({ anthropic: { max_concurrency: 2 }, gemini: { max_concurrency: 4 } });
    const none = registry.forPipeline(undefined);
    // In either order of first use.
    expect(b.gate('anthropic').options.maxConcurrency).toBe(2);
    expect(a.gate('anthropic').options.maxConcurrency).toBe(20);
    expect(c.gate('anthropic')).toBe(b.gate('anthropic'));
    expect(none.gate('anthropic').options.maxConcurrency).toBe(10);
    expect(none.gate('anthropic')).toBe(registry.gate('anthropic'));
    // A name the pipeline does not declare has its type's defaults, not another pipeline's limits.
    expect(a.gate('gemini').options.maxConcurrency).toBe(15);
    expect(c.gate('gemini').options.maxConcurrency).toBe(4);
    expect(registry.all()).toHaveLength(5);
  });

  it('is made once per providers object', () => {
    const registry = new GateRegistry();
    const providers = { openai: { max_concurrency: 3 } };
    expect(registry.forPipeline(providers)).toBe(registry.forPipeline(providers));
    expect(registry.forPipeline(undefined)).toBe(registry.forPipeline(undefined));
    expect(registry.forPipeline(providers).forPipeline(providers)).toBe(registry.forPipeline(providers));
  });

  it("falls back to the registry's own declarations, never to what configure() was told for another pipeline", () => {
    const registry = new GateRegistry(undefined, { mock: { max_concurrency: 100 } });
    registry.configure({ openai: { max_concurrency: 1 } }); // as a caller handling another pipeline might
    const view = registry.forPipeline({ anthropic: { max_concurrency: 3 } });
    expect(view.gate('mock').options.maxConcurrency).toBe(100);
    expect(view.gate('openai').options.maxConcurrency).toBe(10);
    expect(registry.gate('openai').options.maxConcurrency).toBe(1);
  });

  it('reset() forgets the gates of every view', () => {
    const registry = new GateRegistry();
    const view = registry.forPipeline({ anthropic: { max_concurrency: 2 } });
    const before = view.gate('anthropic');
    registry.reset();
    expect(registry.all()).toHaveLength(0);
    const after = view.gate('anthropic');
    expect(after).not.toBe(before);
    expect(after.options.maxConcurrency).toBe(2);
  });
});

describe('calls of two pipelines in one process, through createModelCaller', () => {
  const price = (_p: string, _m: string, usage: Usage) => usage.inputTokens / 1e6;

  function callerFor(gates: GateRegistry, provider: StubProvider, runId: string) {
    return createModelCaller({
      resolveProvider: () => provider,
      gates,
      bus: new EventBus(),
      runId,
      step: 'ask',
      price,
      retry: ONE_ATTEMPT,
    });
  }

  const slow = () =>
    new StubProvider(async (_n, signal) => {
      await waitOrAbort(20, signal);
      return answer();
    });
  const opts = () => ({ signal: new AbortController().signal, stream: false });

  it('holds each pipeline to its own max_concurrency, whichever ran first', async () => {
    const registry = new GateRegistry();
    const one = slow();
    const three = slow();
    const first = callerFor(registry.forPipeline({ stub: { max_concurrency: 1 } }), one, 'run-a');
    const second = callerFor(registry.forPipeline({ stub: { max_concurrency: 3 } }), three, 'run-b');
    await first(request('warm up'), opts()); // the first pipeline has built the gate of `stub`
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => [first(request(`a${i}`), opts()), second(request(`b${i}`), opts())]).flat(),
    );
    expect(one.peakInFlight).toBe(1);
    expect(three.peakInFlight).toBe(3);
  });

  it('shares the slots of one declaration between every pipeline that makes it', async () => {
    const registry = new GateRegistry();
    const provider = slow();
    const a = callerFor(registry.forPipeline({ stub: { max_concurrency: 2 } }), provider, 'run-a');
    const b = callerFor(registry.forPipeline({ stub: { max_concurrency: 2 } }), provider, 'run-b');
    await Promise.all(
      Array.from({ length: 4 }, (_, i) => [a(request(`a${i}`), opts()), b(request(`b${i}`), opts())]).flat(),
    );
    expect(provider.calls).toBe(8);
    expect(provider.peakInFlight).toBe(2);
  });
});
