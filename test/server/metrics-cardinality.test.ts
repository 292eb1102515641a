// A server's inline pipelines are request bodies: each may call a model of free text and declare a
// provider name of its own (type mock, as the inline policy allows). Neither the metric series
// nor the provider gates (and the lines /metrics and /health list for them) may grow with the number
// of requests: past the caps, idle gates of pipelines' own names are let go of and new
// (provider, model) pairs are labelled `other` — their tokens still counted.
import { afterEach, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';

/** The documented defaults: (provider, model) pairs labelled, idle gates of pipelines' own names kept. */
const DEFAULT_MAX_LABEL_PAIRS = 200;
const DEFAULT_MAX_PIPELINE_GATES = 32;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const lines = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

it('inline runs declaring new provider names and models mint bounded series, gates and /health lines', async () => {
  h = await startHarness();
  // Two (provider, model) pairs per run: past the cap half-way through.
  const n = DEFAULT_MAX_LABEL_PAIRS / 2 + 50;
  for (let i = 0; i < n; i++) {
    // Step a calls the built-in mock with a free-text model; step b a provider name of the
    // pipeline's own, of type mock: a gate and label pairs of its own each time.
    const yaml = [
      'name: card',
      'providers:',
      `  p_${i}: { type: mock }`,
      'steps:',
      `  - { name: a, type: llm, provider: mock, model: "free text model ${i}", prompt: hi }`,
      `  - { name: b, type: llm, provider: p_${i}, model: "free text model ${i}", prompt: hi }`,
      '',
    ].join('\n');
    const res = await h.call('/runs', { json: { yaml } });
    expect(res.status, await res.clone().text()).toBe(202);
    const { run_id } = (await res.json()) as { run_id: string };
    // One at a time: each run's gates are idle by the time the next run builds its own.
    for (let t = 0; t < 200 && (await h.store.getRun(run_id))?.finishedAt === undefined; t++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const run = await h.store.getRun(run_id);
    expect(run?.status).toBe('succeeded');
  }
  const metrics = await (await h.call('/metrics')).text();
  const tokens = lines(metrics, 'pipeline_tokens_total{');
  // Per direction: the pairs that keep their names, one `model="other"` per provider among them,
  // and provider="other",model="other".
  expect(tokens.length).toBeLessThanOrEqual(2 * (2 * DEFAULT_MAX_LABEL_PAIRS + 1));
  expect(tokens.length).toBeLessThan(2 * 2 * n);
  // Every run's tokens are counted, the folded ones under provider="other",model="other".
  const counted = tokens.reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  const runs = await h.store.listRuns({ limit: n + 10 });
  expect(runs.length).toBe(n);
  const spent = runs.reduce((sum, run) => sum + run.totals.inputTokens + run.totals.outputTokens, 0);
  expect(spent).toBeGreaterThan(0);
  expect(counted).toBe(spent);
  // The built-in mock is labelled already: its models past the cap are folded under its name.
  expect(lines(metrics, 'pipeline_tokens_total{provider="mock",model="other"').length).toBe(2);
  const gates = lines(metrics, 'pipeline_provider_bulkhead_in_flight{');
  // The built-in mock's gate, kept, and at most the cap of the pipelines' own names' gates.
  expect(gates).toContain('pipeline_provider_bulkhead_in_flight{provider="mock"} 0');
  expect(gates.length).toBeLessThanOrEqual(1 + DEFAULT_MAX_PIPELINE_GATES);
  expect(gates).toContain(`pipeline_provider_bulkhead_in_flight{provider="p_${n - 1}"} 0`);
  expect(lines(metrics, 'pipeline_provider_circuit_state{').length).toBeLessThanOrEqual(1 + DEFAULT_MAX_PIPELINE_GATES);
  const health = (await (await h.call('/health')).json()) as { checks: { providers: { providers: unknown[] } } };
  // The four built-in names are always listed, then the gates kept.
  expect(health.checks.providers.providers.length).toBeLessThanOrEqual(4 + DEFAULT_MAX_PIPELINE_GATES);
}, 120_000);
