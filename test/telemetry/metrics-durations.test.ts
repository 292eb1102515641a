// Durations as an operator asks about them: how long do the provider's calls take (a slow vendor is
// the first thing to look for), and how long do the long steps take — a batch or an agent's session
// runs for many minutes, and a histogram tells nothing past its last bucket.
import { describe, expect, it } from 'vitest';
import type { EventBus } from '../../src/telemetry/event-bus.js';
import { attachMetrics } from '../../src/telemetry/metrics.js';
import { newEngine } from './run-pipeline.js';

function respond(bus: EventBus, provider: string, model: string, durationMs: number, cached = false): void {
  bus.emit('pipeline.provider.response', {
    ...{ runId: 'r', step: 's', provider, model, durationMs },
    ...{ usage: { inputTokens: 3, outputTokens: 2 }, costUsd: 0.01, cached },
  });
}

function stepStopped(bus: EventBus, durationMs: number): void {
  bus.emit('pipeline.step.stop', {
    ...{ runId: 'r', step: 's', type: 'batch', status: 'succeeded' as const, durationMs },
    ...{ usage: { inputTokens: 0, outputTokens: 0 }, costUsd: 0, attempts: 1, fromJournal: false },
  });
}

/** The value of the sample of `metric` whose labels are exactly `labels`. */
function sample(text: string, metric: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{${labels}} `));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('duration histograms', () => {
  it('time the provider calls, by provider: fast and slow ones apart, cache hits left out', async () => {
    const engine = newEngine();
    const metrics = attachMetrics(engine, { defaultMetrics: false });
    respond(engine.bus, 'anthropic', 'claude-haiku-4-5', 800);
    respond(engine.bus, 'anthropic', 'claude-sonnet-4-5', 45_000);
    respond(engine.bus, 'anthropic', 'claude-haiku-4-5', 0, true); // a hit: no call was made
    const text = await metrics.text();
    const metric = 'pipeline_provider_call_duration_seconds';
    expect(sample(text, `${metric}_count`, 'provider="anthropic"')).toBe(2);
    expect(sample(text, `${metric}_sum`, 'provider="anthropic"')).toBeCloseTo(45.8, 6);
    expect(sample(text, `${metric}_bucket`, 'le="1",provider="anthropic"')).toBe(1);
    expect(sample(text, `${metric}_bucket`, 'le="30",provider="anthropic"')).toBe(1);
    expect(sample(text, `${metric}_bucket`, 'le="60",provider="anthropic"')).toBe(2);
    // No model label: the series of a histogram are its buckets times its label values.
    expect(text).not.toMatch(new RegExp(`^${metric}_bucket\\{[^}]*model=`, 'm'));
    metrics.detach();
  });

  it('keep the provider label under the cap, as the other provider metrics do', async () => {
    const engine = newEngine();
    const metrics = attachMetrics(engine, { defaultMetrics: false, maxLabelPairs: 1 });
    respond(engine.bus, 'anthropic', 'claude-haiku-4-5', 500);
    respond(engine.bus, 'made-up-provider', 'x', 500);
    const text = await metrics.text();
    expect(sample(text, 'pipeline_provider_call_duration_seconds_count', 'provider="other"')).toBe(1);
    expect(text).not.toContain('made-up-provider');
    metrics.detach();
  });

  it('tell a step of ten minutes from one of forty', async () => {
    const engine = newEngine();
    const metrics = attachMetrics(engine, { defaultMetrics: false });
    stepStopped(engine.bus, 10 * 60_000);
    stepStopped(engine.bus, 40 * 60_000);
    const text = await metrics.text();
    const bucket = (le: string) =>
      sample(text, 'pipeline_step_duration_seconds_bucket', `le="${le}",step_type="batch"`);
    // A finite bucket holds the first and not the second, and the last finite one reaches an hour:
    // a quantile can be told from them (past 300 s, both used to be only "+Inf").
    expect(bucket('600')).toBe(1);
    expect(bucket('1800')).toBe(1);
    expect(bucket('3600')).toBe(2);
    expect(bucket('+Inf')).toBe(2);
    metrics.detach();
  });
});
