// The provider and model labels come from pipelines — for a server, from request bodies (inline
// pipelines). They are capped: past `maxLabelPairs` distinct (provider, model) pairs, a new model is
// reported as model="other" under its provider if that provider is labelled already, else under
// provider="other"; the tokens and costs are still counted, so every sum over a metric stays right.
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { attachMetrics } from '../../src/telemetry/metrics.js';

/** The documented default cap of (provider, model) pairs. */
const DEFAULT_MAX_LABEL_PAIRS = 200;

import { newEngine } from './run-pipeline.js';

function respond(bus: EventBus, provider: string, model: string, costUsd: number | null = 0.01): void {
  bus.emit('pipeline.provider.response', {
    runId: 'r',
    step: 's',
    provider,
    model,
    durationMs: 1,
    usage: { inputTokens: 3, outputTokens: 2 },
    costUsd,
    cached: false,
  });
}

/** The samples of one metric: labels → value. */
function samples(text: string, metric: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(metric.length, at), Number(line.slice(at + 1)));
  }
  return out;
}

const sum = (values: Map<string, number>) => [...values.values()].reduce((a, b) => a + b, 0);

describe('provider and model labels', () => {
  it('are bounded by default: a thousand free-text models mint at most the cap of series, and the sums stay right', async () => {
    const engine = newEngine();
    const metrics = attachMetrics(engine, { defaultMetrics: false });
    for (let i = 0; i < 1000; i++) respond(engine.bus, `p_${i}`, `free text model ${i}`);
    const text = await metrics.text();
    const tokens = samples(text, 'pipeline_tokens_total');
    // Two directions per pair, the cap's pairs plus the one catch-all pair.
    expect(tokens.size).toBeLessThanOrEqual(2 * (DEFAULT_MAX_LABEL_PAIRS + 1));
    expect(sum(tokens)).toBe(1000 * 5);
    expect(tokens.get('{provider="other",model="other",direction="input"}')).toBe((1000 - DEFAULT_MAX_LABEL_PAIRS) * 3);
    const cost = samples(text, 'pipeline_cost_usd_total');
    expect(cost.size).toBeLessThanOrEqual(DEFAULT_MAX_LABEL_PAIRS + 1);
    expect(sum(cost)).toBeCloseTo(1000 * 0.01, 6);
    metrics.detach();
  });

  it('past the cap: a pair seen before keeps its name, a new model of a known provider is model="other"', async () => {
    const engine = newEngine();
    const metrics = attachMetrics(engine, { defaultMetrics: false, maxLabelPairs: 2 });
    respond(engine.bus, 'anthropic', 'claude-haiku-4-5');
    respond(engine.bus, 'local', 'llama3.2', null);
    // The cap is reached: what comes next is folded, what was seen keeps its labels.
    respond(engine.bus, 'anthropic', 'claude-made-up-1');
    respond(engine.bus, 'anthropic', 'claude-made-up-2');
    respond(engine.bus, 'local', 'another', null);
    respond(engine.bus, 'newcomer', 'x');
    respond(engine.bus, 'anthropic', 'claude-haiku-4-5');
    const text = await metrics.text();
    const tokens = samples(text, 'pipeline_tokens_total');
    expect(Object.fromEntries(tokens)).toEqual({
      '{provider="anthropic",model="claude-haiku-4-5",direction="input"}': 6,
      '{provider="anthropic",model="claude-haiku-4-5",direction="output"}': 4,
      '{provider="local",model="llama3.2",direction="input"}': 3,
      '{provider="local",model="llama3.2",direction="output"}': 2,
      '{provider="anthropic",model="other",direction="input"}': 6,
      '{provider="anthropic",model="other",direction="output"}': 4,
      '{provider="local",model="other",direction="input"}': 3,
      '{provider="local",model="other",direction="output"}': 2,
      '{provider="other",model="other",direction="input"}': 3,
      '{provider="other",model="other",direction="output"}': 2,
    });
    expect(Object.fromEntries(samples(text, 'pipeline_unpriced_calls_total'))).toEqual({
      '{provider="local",model="llama3.2"}': 1,
      '{provider="local",model="other"}': 1,
    });
    expect(sum(samples(text, 'pipeline_cost_usd_total'))).toBeCloseTo(0.05, 6);
    metrics.detach();
  });

  it('counts the calls of the other buses it is given (a cluster worker’s item runners), under the same cap', async () => {
    const engine = newEngine();
    const items = new EventBus();
    const metrics = attachMetrics(engine, { defaultMetrics: false, alsoFrom: [items] });
    respond(engine.bus, 'mock', 'mock-model');
    respond(items, 'mock', 'mock-model');
    // A hit, as the model caller reports one: a response that did not come from the provider.
    items.emit('pipeline.provider.response', {
      ...{ runId: 'r', step: 's[0]', provider: 'mock', model: 'mock-model', durationMs: 0 },
      ...{ usage: { inputTokens: 3, outputTokens: 2 }, costUsd: 0, cached: true },
    });
    const text = await metrics.text();
    expect(samples(text, 'pipeline_tokens_total').get('{provider="mock",model="mock-model",direction="input"}')).toBe(
      6,
    );
    expect(text).toMatch(/^pipeline_cache_hits_total 1$/m);
    metrics.detach();
    respond(items, 'mock', 'mock-model');
    expect(
      samples(await metrics.text(), 'pipeline_tokens_total').get(
        '{provider="mock",model="mock-model",direction="input"}',
      ),
    ).toBe(6);
  });
});
