import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { CassettePlayer, CassetteRecorder } from '../../src/journal/cassette.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { attachMetrics } from '../../src/telemetry/metrics.js';
import { MOCK_PIPELINE, newEngine, runYaml } from './run-pipeline.js';

const sampleValue = (text: string, line: RegExp): number => {
  const match = text.split('\n').find((l) => line.test(l));
  return match ? Number(match.split(' ').at(-1)) : Number.NaN;
};

describe('attachMetrics', () => {
  it('counts runs, steps, durations and tokens from the bus', async () => {
    const engine = newEngine();
    const metrics = attachMetrics(engine, { defaultMetrics: false });
    await runYaml(engine, MOCK_PIPELINE, { mock: true });
    await runYaml(engine, MOCK_PIPELINE, { mock: true });
    const text = await metrics.text();
    expect(sampleValue(text, /^pipeline_runs_total\{status="succeeded"\}/)).toBe(2);
    expect(sampleValue(text, /^pipeline_steps_total\{step_type="mock",status="succeeded"\}/)).toBe(4);
    expect(sampleValue(text, /^pipeline_step_duration_seconds_count\{step_type="mock"\}/)).toBe(4);
    const input = sampleValue(text, /^pipeline_tokens_total\{provider="mock",model="[^"]*",direction="input"\}/);
    expect(input).toBeGreaterThan(0);
    expect(sampleValue(text, /^pipeline_active_runs /)).toBe(0);
    // The mock's gate exists now: its breaker and bulkhead are exported per provider.
    expect(sampleValue(text, /^pipeline_provider_circuit_state\{provider="mock"\}/)).toBe(0);
    expect(sampleValue(text, /^pipeline_provider_bulkhead_in_flight\{provider="mock"\}/)).toBe(0);
    metrics.detach();
  });

  it('shows the breakers of the gates, counts cache hits; ignores steps taken from the journal', async () => {
    const engine = newEngine();
    const metrics = attachMetrics(engine, { defaultMetrics: false });
    // The anthropic gate's breaker opens at its first fault, and lets a probe through after 50 ms.
    const gate = engine.gates.gate('anthropic', {
      circuit_breaker: { failure_threshold: 1, recovery_timeout: '50ms' },
    });
    const fault = new ProviderError('anthropic', 'server', 'HTTP 500');
    const once = {
      signal: new AbortController().signal,
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, jitter: false },
    };
    await gate.execute(() => Promise.reject(fault), once).catch(() => {});
    engine.bus.emit('pipeline.provider.response', {
      runId: 'r',
      step: 's',
      provider: 'p',
      model: 'm',
      durationMs: 0,
      usage: { inputTokens: 100, outputTokens: 20 },
      costUsd: 0,
      cached: true,
    });
    const replayed = {
      runId: 'r',
      step: 's',
      type: 'llm',
      status: 'succeeded' as const,
      durationMs: 5,
      usage: { inputTokens: 1, outputTokens: 1 },
      costUsd: 0,
      attempts: 1,
    };
    engine.bus.emit('pipeline.step.stop', { ...replayed, fromJournal: true });
    engine.bus.emit('pipeline.step.stop', { ...replayed, fromJournal: false });
    engine.bus.emit('pipeline.provider.response', {
      runId: 'r',
      step: 's',
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
      durationMs: 10,
      usage: { inputTokens: 100, outputTokens: 20 },
      costUsd: 0.25,
      cached: false,
    });
    const text = await metrics.text();
    expect(sampleValue(text, /^pipeline_provider_circuit_state\{provider="anthropic"\}/)).toBe(2);
    expect(sampleValue(text, /^pipeline_cache_hits_total /)).toBe(1);
    expect(sampleValue(text, /^pipeline_steps_total\{step_type="llm",status="succeeded"\}/)).toBe(1);
    expect(sampleValue(text, /^pipeline_cost_usd_total\{provider="anthropic",model="claude-haiku-4-5"\}/)).toBe(0.25);
    expect(sampleValue(text, /direction="output"\}/)).toBe(20);
    await sleep(80); // past the recovery timeout: the next call would be the probe
    expect(sampleValue(await metrics.text(), /^pipeline_provider_circuit_state\{provider="anthropic"\}/)).toBe(1);
  });

  it('counts as cache hits what the journal does: calls answered from the cache or from a cassette', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-metrics-'));
    const tape = join(dir, 'tape.jsonl');
    const engine = new Engine({ store: new SqliteStore(':memory:'), env: {} });
    const metrics = attachMetrics(engine, { defaultMetrics: false });
    const loaded = loadPipelineFromString(MOCK_PIPELINE, join(dir, 'p.yaml'));
    const hits = async () => sampleValue(await metrics.text(), /^pipeline_cache_hits_total /);
    const first = await (await engine.start(loaded, { record: new CassetteRecorder(tape) })).result;
    expect(first.totals.cache_hits).toBe(0);
    expect(await hits()).toBe(0);
    const cached = await (await engine.start(loaded)).result;
    expect(cached.totals.cache_hits).toBe(2);
    expect(await hits()).toBe(2);
    const replayed = await (await engine.start(loaded, { replay: new CassettePlayer(tape) })).result;
    expect(replayed.totals.cache_hits).toBe(2);
    expect(await hits()).toBe(4);
    // Nothing answered without the provider adds tokens.
    expect(sampleValue(await metrics.text(), /direction="output"\}/)).toBe(first.totals.output_tokens);
    metrics.detach();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts calls to unpriced models apart, never as free', async () => {
    const engine = newEngine();
    const metrics = attachMetrics(engine, { defaultMetrics: false });
    const call = {
      runId: 'r',
      step: 's',
      provider: 'local',
      model: 'llama3.2',
      durationMs: 10,
      usage: { inputTokens: 100, outputTokens: 20 },
      cached: false,
    };
    engine.bus.emit('pipeline.provider.response', { ...call, costUsd: null });
    engine.bus.emit('pipeline.provider.response', { ...call, costUsd: null });
    engine.bus.emit('pipeline.provider.response', { ...call, model: 'priced', costUsd: 0.5 });
    const text = await metrics.text();
    expect(sampleValue(text, /^pipeline_unpriced_calls_total\{provider="local",model="llama3.2"\}/)).toBe(2);
    expect(sampleValue(text, /^pipeline_unpriced_calls_total\{provider="local",model="priced"\}/)).toBeNaN();
    expect(sampleValue(text, /^pipeline_cost_usd_total\{provider="local",model="llama3.2"\}/)).toBeNaN();
    expect(sampleValue(text, /^pipeline_tokens_total\{provider="local",model="llama3.2",direction="input"\}/)).toBe(
      200,
    );
    metrics.detach();
  });

  it('keeps each engine in its own registry, with the default process metrics', async () => {
    const a = attachMetrics(newEngine());
    const b = attachMetrics(newEngine());
    expect(await a.text()).toMatch(/^process_cpu_user_seconds_total /m);
    expect(await b.text()).toMatch(/^nodejs_eventloop_lag_seconds /m);
    a.detach();
    b.detach();
  });
});

describe('provider gauges with a provider declared two ways', () => {
  it('sum the calls in flight of every gate of a provider name, and show its worst breaker', async () => {
    const engine = newEngine();
    const metrics = attachMetrics(engine, { defaultMetrics: false });
    // Two pipelines declare `mock` with different limits: two gates of one name.
    const narrow = engine.gates.forPipeline({ mock: { max_concurrency: 1 } }).gate('mock');
    const wide = engine.gates.forPipeline({ mock: { max_concurrency: 5 } }).gate('mock');
    expect(narrow).not.toBe(wide);
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const signal = new AbortController().signal;
    const calls = [narrow.bulkhead.execute(() => held, signal), wide.bulkhead.execute(() => held, signal)];
    calls.push(wide.bulkhead.execute(() => held, signal));
    const text = await metrics.text();
    expect(sampleValue(text, /^pipeline_provider_bulkhead_in_flight\{provider="mock"\}/)).toBe(3);
    release();
    await Promise.all(calls);
    metrics.detach();
  });
});
