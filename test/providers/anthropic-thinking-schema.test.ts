// Structured output (`schema:`) with Anthropic's extended thinking. The Messages API refuses thinking
// together with a tool_choice that forces tool use (`tool`, `any`) — "Thinking may not be enabled
// when tool_choice forces tool use" — and the fake refuses it the same way. With thinking on, the
// provider sends `tool_choice: auto` and tells the model (system prompt) to answer with the
// structured_output tool; an answer in text is taken when it is JSON, else the call loop repairs.
import { describe, expect, it } from 'vitest';
import { providerCaller, runLlmCall } from '../../src/llm/index.js';
import { STRUCTURED_OUTPUT_INSTRUCTION } from '../../src/providers/anthropic.js';
import type { ToolSpec } from '../../src/providers/provider.js';
import { collect, request, subjects } from './harness.js';

const subject = subjects().find((s) => s.name === 'anthropic');
if (!subject) throw new Error('no anthropic subject');
const { fake } = subject;

const thinking = { thinking: { type: 'enabled', budget_tokens: 2048 } };
const schema = { type: 'object', properties: { verdict: { type: 'string' } }, required: ['verdict'] };
const lookup: ToolSpec = {
  name: 'lookup',
  description: 'Look a word up',
  parameters: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] },
};
const answerWith = (input: Record<string, unknown>) => ({
  toolCalls: [{ id: 'toolu_out', name: 'structured_output', arguments: input }],
});

interface SentBody {
  system?: unknown;
  thinking?: { type: string };
  tool_choice?: { type: string; name?: string };
  tools?: Array<{ name: string }>;
  messages: Array<{ role: string; content: Array<Record<string, unknown>> }>;
}
const sent = (i: number) => fake.requests[i]?.body as SentBody;

describe('the Anthropic fake with thinking on', () => {
  const post = (toolChoice: unknown) =>
    fetch(`${fake.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 4096,
        thinking: { type: 'enabled', budget_tokens: 2048 },
        tools: [{ name: 'structured_output', input_schema: schema }],
        tool_choice: toolChoice,
        messages: [{ role: 'user', content: 'judge' }],
      }),
    });

  it.each([{ type: 'tool', name: 'structured_output' }, { type: 'any' }])(
    'refuses a tool_choice that forces tool use ($type) with the API 400',
    async (choice) => {
      const res = await post(choice);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { type: string; message: string } };
      expect(body.error).toEqual({
        type: 'invalid_request_error',
        message: 'Thinking may not be enabled when tool_choice forces tool use.',
      });
    },
  );

  it.each([{ type: 'auto' }, { type: 'none' }])('accepts tool_choice $type', async (choice) => {
    expect((await post(choice)).status).toBe(200);
  });
});

describe('anthropic: schema with extended thinking', () => {
  it.each([false, true])(
    'asks with tool_choice auto and the instruction, answers with the tool (stream: %s)',
    async (stream) => {
      fake.queueAnswers({ thinking: 'Weighing it.', ...answerWith({ verdict: 'guilty' }) });
      const req = request(subject, { schema, system: 'You are a judge.', maxTokens: 4096, extra: thinking });
      const res = stream
        ? (await collect(subject.provider().stream(req, AbortSignal.timeout(5000)))).done
        : await subject.provider().generate(req, AbortSignal.timeout(5000));
      expect(fake.requests[0]?.fault).toBeUndefined();
      const body = sent(0);
      expect(body.thinking?.type).toBe('enabled');
      expect(body.tool_choice).toEqual({ type: 'auto' });
      expect(body.tools?.map((t) => t.name)).toEqual(['structured_output']);
      expect(body.system).toBe(`You are a judge.\n\n${STRUCTURED_OUTPUT_INSTRUCTION}`);
      expect(res?.object).toEqual({ verdict: 'guilty' });
      expect(res?.text).toBe('{"verdict":"guilty"}');
      expect(res?.toolCalls).toEqual([]);
      expect(res?.vendorTurn?.blocks[0]).toMatchObject({ type: 'thinking', thinking: 'Weighing it.' });
    },
  );

  it('adds the instruction after system blocks sent in the extras', async () => {
    const system = [{ type: 'text', text: 'Cached rules.', cache_control: { type: 'ephemeral' } }];
    await subject
      .provider()
      .generate(
        request(subject, { schema, maxTokens: 4096, extra: { ...thinking, system } }),
        AbortSignal.timeout(5000),
      );
    expect(sent(0).system).toEqual([...system, { type: 'text', text: STRUCTURED_OUTPUT_INSTRUCTION }]);
  });

  it('takes an answer given as JSON text (unwrapped when the schema was wrapped)', async () => {
    const list = { type: 'array', items: { type: 'string' } };
    fake.queueAnswers({ text: '```json\n{"value": ["a", "b"]}\n```' }, { text: '["c"]' });
    const req = request(subject, { schema: list, maxTokens: 4096, extra: thinking });
    const wrapped = await subject.provider().generate(req, AbortSignal.timeout(5000));
    expect(wrapped.object).toEqual(['a', 'b']);
    const bare = await subject.provider().generate(req, AbortSignal.timeout(5000));
    expect(bare.object).toEqual(['c']);
  });

  it('repairs an answer in text that is not JSON, as any invalid answer', async () => {
    fake.queueAnswers({ text: 'The defendant is guilty.' }, answerWith({ verdict: 'guilty' }));
    const result = await runLlmCall({
      request: request(subject, { schema, maxTokens: 4096, extra: thinking }),
      call: providerCaller(subject.provider()),
      signal: AbortSignal.timeout(5000),
    });
    expect(result.object).toEqual({ verdict: 'guilty' });
    expect(result.repairs).toBe(1);
    const second = sent(1);
    expect(fake.requests[1]?.fault).toBeUndefined();
    expect(second.tool_choice).toEqual({ type: 'auto' });
    expect(second.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(second.messages[1]?.content).toEqual([{ type: 'text', text: 'The defendant is guilty.' }]);
    expect(JSON.stringify(second.messages[2]?.content)).toContain('the answer is not valid JSON');
  });

  it('with tools of its own: auto, the thinking turn goes back with the tool results, then the answer', async () => {
    fake.setScript(() =>
      fake.requests.length === 1
        ? { thinking: 'Look it up first.', toolCalls: [{ id: 'tu1', name: 'lookup', arguments: { word: 'x' } }] }
        : { thinking: 'Now I know.', ...answerWith({ verdict: 'x is 42' }) },
    );
    const result = await runLlmCall({
      request: request(subject, { schema, tools: [lookup], maxTokens: 4096, extra: thinking }),
      call: providerCaller(subject.provider()),
      tools: { lookup: async () => '42' },
      signal: AbortSignal.timeout(5000),
    });
    expect(result.object).toEqual({ verdict: 'x is 42' });
    expect(result.turns).toBe(1);
    expect(fake.requests.map((r) => r.fault)).toEqual([undefined, undefined]);
    expect(fake.requests.map((r) => (r.body as SentBody).tool_choice)).toEqual([{ type: 'auto' }, { type: 'auto' }]);
    expect(sent(1).messages[1]?.content[0]).toMatchObject({ type: 'thinking', thinking: 'Look it up first.' });
  });

  it('forces the tool as before when thinking is off or disabled', async () => {
    await subject.provider().generate(request(subject, { schema }), AbortSignal.timeout(5000));
    const disabled = { thinking: { type: 'disabled' } };
    await subject.provider().generate(request(subject, { schema, extra: disabled }), AbortSignal.timeout(5000));
    await subject
      .provider()
      .generate(request(subject, { schema, tools: [lookup], extra: disabled }), AbortSignal.timeout(5000));
    expect(fake.requests.map((r) => (r.body as SentBody).tool_choice)).toEqual([
      { type: 'tool', name: 'structured_output' },
      { type: 'tool', name: 'structured_output' },
      { type: 'any' },
    ]);
    expect(sent(0).system).toBeUndefined();
  });

  it("the extras cannot force the tool back: the provider's tool_choice wins", async () => {
    const extra = { ...thinking, tool_choice: { type: 'tool', name: 'structured_output' } };
    fake.queueAnswers(answerWith({ verdict: 'innocent' }));
    const res = await subject
      .provider()
      .generate(request(subject, { schema, maxTokens: 4096, extra }), AbortSignal.timeout(5000));
    expect(sent(0).tool_choice).toEqual({ type: 'auto' });
    expect(res.object).toEqual({ verdict: 'innocent' });
  });
});
