// A streamed answer cut off mid-way is retried (or the step falls back), and the next attempt
// streams its answer from the start into the same step: without a word, a consumer would show the
// first attempt's partial text followed by the whole answer — text the model never wrote. The engine
// says so with a `pipeline.step.chunk` whose `reset` is true: a consumer that clears the step's text
// there shows exactly the step's output. Through the real SDKs against the fake servers.
import { describe, expect, it } from 'vitest';
import type { EventMap } from '../../src/telemetry/events.js';
import { AnthropicFake, faults, GeminiFake, OpenAIFake } from '../fakes/index.js';
import { useFakeVendors } from './fake-vendors.js';
import { newEngine, pipelineFile, step } from './harness.js';

const anthropic = new AnthropicFake();
const gemini = new GeminiFake();
const openai = new OpenAIFake();
const vendors = useFakeVendors({ anthropic, gemini, openai });

const ANSWER = 'The quick brown fox jumps over the lazy dog.';

type Chunk = EventMap['pipeline.step.chunk'];

/** Runs `yaml`, collecting the step's chunk events. */
async function run(yaml: string) {
  const engine = newEngine({ env: vendors.env });
  const chunks: Chunk[] = [];
  engine.bus.on('pipeline.step.chunk', (e) => chunks.push(e));
  const result = await (await engine.start(pipelineFile(yaml).load())).result;
  return { result, chunks };
}

/** What a consumer shows: the chunks appended, cleared at each reset. */
function shown(chunks: Chunk[]): string {
  let text = '';
  for (const c of chunks) text = c.reset ? c.text : text + c.text;
  return text;
}

/** What a consumer that ignores `reset` shows: the bug. */
const appended = (chunks: Chunk[]) => chunks.map((c) => c.text).join('');

describe('a streamed attempt cut off and retried', () => {
  it.each([
    { type: 'claude', model: 'claude-haiku-4-5', fake: () => anthropic, cut: 6 },
    { type: 'openai', model: 'gpt-4.1-mini', fake: () => openai, cut: 3 },
  ])(
    '$type: a reset is emitted before the retry streams again; what is shown is the output',
    async ({ type, model, fake, cut }) => {
      fake().queueAnswers({ text: ANSWER, chunks: 4 }, { text: ANSWER, chunks: 4 });
      fake().injectFault(faults.truncate(cut, 'end'));

      const { result, chunks } = await run(`
name: streamed
steps:
  - name: write
    type: ${type}
    model: ${model}
    prompt: Write it.
    stream: true
    retry: { max_attempts: 3, base_delay: 1ms, max_delay: 1ms }
`);

      expect(result.error ?? '').toBe('');
      expect(step(result, 'write').output).toBe(ANSWER);
      expect(fake().requests).toHaveLength(2);
      const resets = chunks.filter((c) => c.reset);
      expect(resets).toEqual([{ runId: result.run_id, step: 'write', text: '', reset: true }]);
      // The first attempt had streamed part of the answer before it was cut.
      expect(appended(chunks.slice(0, chunks.indexOf(resets[0] as Chunk))).length).toBeGreaterThan(0);
      expect(appended(chunks)).not.toBe(ANSWER);
      expect(shown(chunks)).toBe(ANSWER);
    },
  );

  it('an attempt that streamed nothing before failing emits no reset', async () => {
    openai.injectFault(faults.serverError());
    const { result, chunks } = await run(`
name: streamed
steps:
  - name: write
    type: openai
    prompt: Write it.
    stream: true
    retry: { max_attempts: 2, base_delay: 1ms, max_delay: 1ms }
`);
    expect(result.status).toBe('succeeded');
    expect(chunks.some((c) => c.reset)).toBe(false);
    expect(shown(chunks)).toBe(step(result, 'write').output);
  });
});

describe('a streamed step that falls back', () => {
  it('the failed call’s partial text is reset before the fallback streams its own answer', async () => {
    anthropic.queueAnswers({ text: 'Claude started to say something', chunks: 4 });
    anthropic.injectFault(faults.truncate(6, 'end'));
    openai.queueAnswers({ text: ANSWER, chunks: 4 });

    const { result, chunks } = await run(`
name: streamed
steps:
  - name: write
    type: claude
    model: claude-haiku-4-5
    prompt: Write it.
    stream: true
    retry: { max_attempts: 1 }
    on_error: fallback
    fallback: { type: openai, model: gpt-4.1-mini }
`);

    expect(result.error ?? '').toBe('');
    expect(step(result, 'write').output).toBe(ANSWER);
    expect(appended(chunks)).toMatch(/^Claude/);
    expect(chunks.filter((c) => c.reset)).toHaveLength(1);
    expect(shown(chunks)).toBe(ANSWER);
  });
});
