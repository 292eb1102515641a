// What an operator alerts on besides latency: how often a provider's calls fail, and how often they
// are retried. The duration histogram counts calls without their outcome, so neither can be told
// from it (a breaker failing calls fast even pulls its quantiles down).
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { attachMetrics } from '../../src/telemetry/metrics.js';
import { newEngine, runYaml } from './run-pipeline.js';

/** The value of the sample of `metric` whose labels are exactly `labels`. */
function sample(text: string, metric: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{${labels}} `));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const FLAKY = `name: flaky
steps:
  - name: once
    type: mock
    prompt: "x"
    fail_first: 1
    retry: { max_attempts: 2, base_delay: 1ms }
  - name: never
    type: mock
    prompt: "y"
    fail_first: 5
    retry: { max_attempts: 3, base_delay: 1ms }
`;

describe('provider call outcomes and retries', () => {
  it('count calls by outcome and the retries of their attempts, per provider', async () => {
    const engine = newEngine();
    const metrics = attachMetrics(engine, { defaultMetrics: false });
    const result = await runYaml(engine, FLAKY, { mock: true });
    expect(result.status).toBe('failed');
    const text = await metrics.text();
    // `once` succeeds at its second attempt; `never` fails after three.
    expect(sample(text, 'pipeline_provider_calls_total', 'provider="mock",outcome="success"')).toBe(1);
    expect(sample(text, 'pipeline_provider_calls_total', 'provider="mock",outcome="error"')).toBe(1);
    expect(sample(text, 'pipeline_provider_retries_total', 'provider="mock"')).toBe(1 + 2);
    metrics.detach();
  });

  it('leave cache hits out, and count the retries of the other buses it is given', async () => {
    const engine = newEngine();
    const items = new EventBus();
    const metrics = attachMetrics(engine, { defaultMetrics: false, alsoFrom: [items] });
    const usage = { inputTokens: 1, outputTokens: 1 };
    const call = { runId: 'r', step: 's[0]', provider: 'p', model: 'm', durationMs: 1, usage, costUsd: 0 };
    items.emit('pipeline.provider.retry', {
      runId: 'r',
      step: 's[0]',
      provider: 'p',
      attempt: 2,
      delayMs: 1,
      reason: 'x',
    });
    items.emit('pipeline.provider.response', { ...call, cached: true });
    items.emit('pipeline.provider.response', { ...call, cached: false });
    const text = await metrics.text();
    expect(sample(text, 'pipeline_provider_retries_total', 'provider="p"')).toBe(1);
    expect(sample(text, 'pipeline_provider_calls_total', 'provider="p",outcome="success"')).toBe(1);
    metrics.detach();
  });

  it('keep the provider label of retries under the cap: a provider seen first in a retry keeps its name', async () => {
    const engine = newEngine();
    const metrics = attachMetrics(engine, { defaultMetrics: false, maxLabelPairs: 1 });
    const retry = { runId: 'r', step: 's', attempt: 2, delayMs: 1, reason: 'HTTP 529' };
    const usage = { inputTokens: 1, outputTokens: 1 };
    engine.bus.emit('pipeline.provider.retry', { ...retry, provider: 'anthropic' });
    engine.bus.emit('pipeline.provider.response', {
      ...{ runId: 'r', step: 's', provider: 'anthropic', model: 'claude-haiku-4-5', durationMs: 1, usage },
      ...{ costUsd: 0, cached: false },
    });
    engine.bus.emit('pipeline.provider.retry', { ...retry, provider: 'made-up-provider' });
    const text = await metrics.text();
    expect(sample(text, 'pipeline_provider_retries_total', 'provider="anthropic"')).toBe(1);
    expect(sample(text, 'pipeline_provider_retries_total', 'provider="other"')).toBe(1);
    // The pair found its provider labelled, and the cap taken: its model is folded, its provider kept.
    expect(sample(text, 'pipeline_provider_calls_total', 'provider="anthropic",outcome="success"')).toBe(1);
    expect(text).not.toContain('made-up-provider');
    metrics.detach();
  });
});
