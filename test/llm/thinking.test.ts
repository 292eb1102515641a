// Anthropic extended thinking with tools, through the loop and the real SDK: the assistant turn goes
// back with its thinking blocks (signatures intact, before the tool_use), or the API refuses the tool
// results with a 400 — the fake refuses exactly as the API does. The thinking is never the answer.
import { describe, expect, it } from 'vitest';
import { providerCaller, runLlmCall } from '../../src/llm/index.js';
import type { ToolSpec } from '../../src/providers/provider.js';
import { request, subjects } from '../providers/harness.js';

const subject = subjects().find((s) => s.name === 'anthropic');
if (!subject) throw new Error('no anthropic subject');
const { fake } = subject;

const lookup: ToolSpec = {
  name: 'lookup',
  description: 'Look a word up',
  parameters: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] },
};
const thinking = { thinking: { type: 'enabled', budget_tokens: 2048 } };

interface SentBody {
  messages: Array<{ role: string; content: Array<Record<string, unknown>> }>;
}

describe('extended thinking with tools via anthropic', () => {
  it.each([false, true])('sends the thinking block back with the tool results (stream: %s)', async (stream) => {
    fake.setScript(() =>
      fake.requests.length === 1
        ? {
            thinking: 'I should look the word up.',
            toolCalls: [{ id: 'tu1', name: 'lookup', arguments: { word: 'x' } }],
          }
        : { thinking: 'Now I can answer.', text: 'x means 42' },
    );
    const chunks: string[] = [];
    const result = await runLlmCall({
      request: request(subject, { maxTokens: 4096, tools: [lookup], extra: thinking }),
      call: providerCaller(subject.provider()),
      tools: { lookup: async () => '42' },
      stream,
      onChunk: (text) => chunks.push(text),
      signal: AbortSignal.timeout(5000),
    });
    expect(result.text).toBe('x means 42');
    expect(result.turns).toBe(1);
    // The thinking is not the answer: not in the text, not streamed as text.
    expect(chunks.join('')).not.toContain('Now I can answer');
    expect(JSON.stringify(result)).not.toContain('I should look the word up');

    const second = fake.requests[1]?.body as SentBody;
    expect(fake.requests[1]?.fault).toBeUndefined();
    expect(second.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(second.messages[1]?.content).toEqual([
      { type: 'thinking', thinking: 'I should look the word up.', signature: expect.any(String) },
      { type: 'tool_use', id: 'tu1', name: 'lookup', input: { word: 'x' } },
    ]);
    expect(second.messages[2]?.content).toEqual([{ type: 'tool_result', tool_use_id: 'tu1', content: '42' }]);
  });

  it('keeps the turn opaque on the response: only with thinking, the same streamed or not', async () => {
    const answer = { thinking: 'Hmm.', toolCalls: [{ id: 'tu1', name: 'lookup', arguments: { word: 'y' } }] };
    fake.queueAnswers(answer, answer, { toolCalls: answer.toolCalls });
    const req = request(subject, { maxTokens: 4096, tools: [lookup], extra: thinking });
    const plain = await subject.provider().generate(req, AbortSignal.timeout(5000));
    let streamed: typeof plain | undefined;
    for await (const chunk of subject.provider().stream(req, AbortSignal.timeout(5000)))
      if (chunk.type === 'done') streamed = chunk.response;
    expect(plain.vendorTurn?.protocol).toBe('anthropic');
    expect(plain.vendorTurn?.blocks[0]).toMatchObject({ type: 'thinking', thinking: 'Hmm.' });
    expect(streamed?.vendorTurn).toEqual(plain.vendorTurn);
    expect(plain.text).toBe('');
    const without = await subject.provider().generate(request(subject, { tools: [lookup] }), AbortSignal.timeout(5000));
    expect(without.vendorTurn).toBeUndefined();
  });
});

describe('the Anthropic fake with thinking on', () => {
  const continued = (assistant: Array<Record<string, unknown>>) => ({
    model: 'claude-sonnet-4-5',
    max_tokens: 4096,
    thinking: { type: 'enabled', budget_tokens: 2048 },
    messages: [
      { role: 'user', content: 'look x up' },
      { role: 'assistant', content: assistant },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu1', content: '42' }] },
    ],
  });
  const post = (body: unknown) =>
    fetch(`${fake.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const toolUse = { type: 'tool_use', id: 'tu1', name: 'lookup', input: { word: 'x' } };

  it('refuses tool results whose assistant turn comes back without its thinking block', async () => {
    const res = await post(continued([toolUse]));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toContain('a final `assistant` message must start with a thinking block');
  });

  it('refuses a thinking block whose text or signature was changed', async () => {
    const res = await post(continued([{ type: 'thinking', thinking: 'edited', signature: 'c2lnbmF0dXJl' }, toolUse]));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('Invalid `signature`');
  });
});
