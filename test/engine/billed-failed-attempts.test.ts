// Money spent is never forgotten, through the engine: an answer the vendor billed but that cannot be
// used — a tool call cut off by max_tokens (not retried), a malformed one (retried) — counts in the
// step's record and the run's totals, which equal the sum of what the fake servers reported.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { priceCall } from '../../src/pricing/index.js';
import type { Usage } from '../../src/providers/provider.js';
import { closePools } from '../../src/resilience/connection-pool.js';
import { AnthropicFake, type FakeAnswer, OpenAIFake } from '../fakes/index.js';
import { newEngine, pipelineFile, step, tempDir } from './harness.js';

const anthropic = new AnthropicFake();
const openai = new OpenAIFake();
let env: Record<string, string>;

beforeAll(async () => {
  env = {
    ANTHROPIC_BASE_URL: await anthropic.start(),
    ANTHROPIC_API_KEY: 'fake-anthropic-key',
    OPENAI_BASE_URL: `${await openai.start()}/v1`,
    OPENAI_API_KEY: 'fake-openai-key',
  };
});
afterAll(async () => {
  await Promise.all([anthropic.stop(), openai.stop()]);
  await closePools();
});
beforeEach(() => {
  anthropic.reset();
  openai.reset();
});

const READ = { name: 'read_file', arguments: { path: 'notes.txt' } };

/** The run's figures against the sum of what the server reported for each request. */
function expectTotals(
  result: Awaited<ReturnType<typeof run>>,
  vendor: string,
  model: string,
  reported: Array<{ input: number; output: number }>,
) {
  const usage: Usage = {
    inputTokens: reported.reduce((n, u) => n + u.input, 0),
    outputTokens: reported.reduce((n, u) => n + u.output, 0),
  };
  const cost = reported.reduce(
    (sum, u) => sum + (priceCall(vendor, model, { inputTokens: u.input, outputTokens: u.output }) ?? Number.NaN),
    0,
  );
  expect(cost).toBeGreaterThan(0);
  expect(result.totals.input_tokens).toBe(usage.inputTokens);
  expect(result.totals.output_tokens).toBe(usage.outputTokens);
  expect(result.totals.cost_usd).toBeCloseTo(cost, 6);
  expect(result.totals.unpriced_calls).toBe(0);
}

async function run(yaml: string) {
  const dir = tempDir();
  writeFileSync(join(dir, 'notes.txt'), 'The journal commits every step before the next one reads it.');
  const { load } = pipelineFile(yaml, dir);
  const engine = newEngine({ env });
  return (await engine.start(load())).result;
}

describe.each([
  { label: 'openai', type: 'openai', vendor: 'openai', model: 'gpt-4.1-mini', stream: false, fake: () => openai },
  {
    label: 'claude, streamed',
    type: 'claude',
    vendor: 'anthropic',
    model: 'claude-haiku-4-5',
    stream: true,
    fake: () => anthropic,
  },
])('$label', ({ type, vendor, model, stream, fake }) => {
  const yaml = (more = '') => `
name: billed
steps:
  - name: look
    type: ${type}
    model: ${model}
    prompt: Read notes.txt and summarize it.
    max_tokens: 20
    stream: ${stream}
    tools: [read_file]
    retry: { max_attempts: 3, base_delay: 1ms, max_delay: 1ms }
${more}`;

  it('a tool call cut off by max_tokens: one paid request, the run fails with it, and its tokens and cost are in the totals', async () => {
    const reported = { input: 100, output: 20 };
    fake().setScript(() => ({ toolCalls: [READ], finishReason: 'length', cutArguments: 10, usage: reported }));

    const result = await run(yaml());

    expect(result.status).toBe('failed');
    expect(result.error).toContain('raise max_tokens');
    expect(fake().requests).toHaveLength(1);
    const look = step(result, 'look');
    expect(look.usage).toEqual({ input_tokens: 100, output_tokens: 20 });
    expect(look.cost_usd).toBeGreaterThan(0);
    expect(result.totals.retries).toBe(0);
    expectTotals(result, vendor, model, [reported]);
  });

  it('a fallback with more max_tokens answers: the cut attempt stays on the bill', async () => {
    const cut = { input: 100, output: 20 };
    const answered = { input: 100, output: 40 };
    fake().setScript((_request, digest) =>
      digest.maxOutputTokens === 20
        ? { toolCalls: [READ], finishReason: 'length', cutArguments: 10, usage: cut }
        : { text: 'Summary.', usage: answered },
    );

    const result = await run(
      yaml(`    on_error: fallback
    fallback: { max_tokens: 200 }
`),
    );

    expect(result.error ?? '').toBe('');
    expect(result.status).toBe('succeeded');
    expect(fake().requests).toHaveLength(2);
    expectTotals(result, vendor, model, [cut, answered]);
  });

  it('a malformed answer is retried; the billed attempt and the tool loop’s calls all count', async () => {
    const reported: FakeAnswer['usage'][] = [
      { input: 100, output: 20 },
      { input: 100, output: 10 },
      { input: 150, output: 5 },
    ];
    fake().queueAnswers(
      { toolCalls: [READ], finishReason: 'tool_calls', cutArguments: 10, usage: reported[0] },
      { toolCalls: [READ], usage: reported[1] },
      { text: 'It commits every step.', usage: reported[2] },
    );

    const result = await run(yaml());

    expect(result.error ?? '').toBe('');
    expect(result.status).toBe('succeeded');
    expect(fake().requests).toHaveLength(3);
    expect(result.totals.retries).toBe(1);
    expect(result.totals.calls).toBe(2);
    expectTotals(result, vendor, model, reported as Array<{ input: number; output: number }>);
  });
});
