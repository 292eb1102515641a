// Gemini 3 through Gemini's OpenAI-compatible endpoint (a `type: openai` provider): each tool call
// comes with `extra_content.google.thought_signature`, which must go back unchanged on the same call
// in the next request, else Google refuses the tool loop's next round with a 400. Played through the
// loop and the real `openai` SDK against the OpenAI fake, which signs and refuses as Google does.
import { describe, expect, it } from 'vitest';
import { providerCaller, runLlmCall } from '../../src/llm/index.js';
import type { ToolSpec } from '../../src/providers/provider.js';
import type { OpenAIFake } from '../fakes/index.js';
import { thoughtSignatureFor } from '../fakes/openai-thought-signatures.js';
import { collect, request, subjects } from './harness.js';

const subject = subjects().find((s) => s.name === 'openai');
if (!subject) throw new Error('no openai subject');
const fake = subject.fake as OpenAIFake;

const MODEL = 'gemini-3-flash-preview';
const tool = (name: string): ToolSpec => ({
  name,
  description: `${name} a word`,
  parameters: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] },
});
const signed = (name: string) => ({ extra_content: { google: { thought_signature: thoughtSignatureFor(name) } } });

interface SentBody {
  messages: Array<{ role: string; tool_calls?: Array<Record<string, unknown>> }>;
}

describe('openai provider: Gemini 3 thought signatures (extra_content)', () => {
  it.each([
    ['not streamed', false, 'sequential'],
    ['streamed, calls numbered as OpenAI numbers them', true, 'sequential'],
    ['streamed, calls unnumbered as Gemini sends them', true, 'omitted'],
  ] as const)('sends each call back with its signature through two tool rounds (%s)', async (_, stream, indexes) => {
    fake.toolCallIndexes = indexes;
    // Round 1: two calls (each its own signature); round 2: one more; then the answer.
    fake.queueAnswers(
      {
        toolCalls: [
          { id: 'call_1', name: 'lookup', arguments: { word: 'x' } },
          { id: 'call_2', name: 'define', arguments: { word: 'x' } },
        ],
      },
      { toolCalls: [{ id: 'call_3', name: 'spell', arguments: { word: 'x' } }] },
      { text: 'x means 42' },
    );
    const result = await runLlmCall({
      request: request(subject, { model: MODEL, tools: [tool('lookup'), tool('define'), tool('spell')] }),
      call: providerCaller(subject.provider()),
      tools: { lookup: async () => '42', define: async () => 'a number', spell: async () => 'x' },
      stream,
      signal: AbortSignal.timeout(5000),
    });

    expect(result.text).toBe('x means 42');
    expect(result.turns).toBe(2);
    // The last request sends both assistant turns back, every call with the signature it came with.
    const last = fake.requests[2]?.body as SentBody;
    const assistant = last.messages.filter((m) => m.role === 'assistant');
    expect(assistant.map((m) => m.tool_calls)).toEqual([
      [
        {
          id: 'call_1',
          type: 'function',
          function: { name: 'lookup', arguments: '{"word":"x"}' },
          ...signed('lookup'),
        },
        {
          id: 'call_2',
          type: 'function',
          function: { name: 'define', arguments: '{"word":"x"}' },
          ...signed('define'),
        },
      ],
      [{ id: 'call_3', type: 'function', function: { name: 'spell', arguments: '{"word":"x"}' }, ...signed('spell') }],
    ]);
  });

  it('keeps the signature on the response’s tool call, the same streamed or not, and none where none came', async () => {
    const answer = { toolCalls: [{ id: 'call_1', name: 'lookup', arguments: { word: 'x' } }] };
    fake.queueAnswers(answer, answer, answer);
    const req = request(subject, { model: MODEL, tools: [tool('lookup')] });
    const plain = await subject.provider().generate(req, AbortSignal.timeout(5000));
    const { done: streamed } = await collect(subject.provider().stream(req, AbortSignal.timeout(5000)));
    const other = await subject.provider().generate({ ...req, model: 'gpt-4o-mini' }, AbortSignal.timeout(5000));

    const call = { id: 'call_1', name: 'lookup', arguments: { word: 'x' } };
    expect(plain.toolCalls).toEqual([{ ...call, signature: thoughtSignatureFor('lookup') }]);
    expect(streamed?.toolCalls).toEqual(plain.toolCalls);
    expect(other.toolCalls).toEqual([call]);
  });
});

describe('the OpenAI fake as Gemini 3 (gemini-3* models)', () => {
  const continued = (model: string, call: Record<string, unknown>, before: unknown[] = []) => ({
    model,
    messages: [
      ...before,
      { role: 'user', content: 'look x up' },
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: 'call_1', content: '42' },
    ],
  });
  const post = (body: unknown) =>
    fetch(`${fake.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const call = { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"word":"x"}' } };

  it('refuses with a 400 a tool call sent back without its signature, or with another', async () => {
    const dropped = await post(continued(MODEL, call));
    expect(dropped.status).toBe(400);
    const body = (await dropped.json()) as { error: { message: string } };
    expect(body.error.message).toContain('Function call is missing a thought_signature');
    expect(body.error.message).toContain('`lookup`');

    const changed = await post(continued(MODEL, { ...call, ...signed('define') }));
    expect(changed.status).toBe(400);
  });

  it('accepts it with its signature; checks only the current turn, and only for Gemini 3', async () => {
    expect((await post(continued(MODEL, { ...call, ...signed('lookup') }))).status).toBe(200);
    // An earlier turn (before the last user message) is not checked, as Google does not check it.
    const earlier = [
      { role: 'user', content: 'first' },
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: 'call_1', content: '1' },
    ];
    expect((await post(continued(MODEL, { ...call, ...signed('lookup') }, earlier))).status).toBe(200);
    expect((await post(continued('gpt-4o-mini', call))).status).toBe(200);
  });
});
