// What only Gemini does: responseMimeType + responseJsonSchema, functionCall / functionResponse
// parts, RetryInfo in the body of a 429.
import { describe, expect, it } from 'vitest';
import { priceCall } from '../../src/pricing/price-call.js';
import type { ProviderError } from '../../src/providers/provider-error.js';
import { collect, rejection, request, subjects } from './harness.js';

const subject = subjects().find((s) => s.name === 'gemini');
if (!subject) throw new Error('no gemini subject');
const { fake } = subject;

interface SentBody {
  generationConfig?: Record<string, unknown>;
  systemInstruction?: unknown;
  contents: Array<{ role: string; parts: Array<Record<string, unknown>> }>;
  tools?: Array<{ functionDeclarations: Array<Record<string, unknown>> }>;
}

describe('gemini provider', () => {
  it('asks for JSON with the schema and parameters in generationConfig', async () => {
    const schema = { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' } } } };
    const res = await subject
      .provider()
      .generate(
        request(subject, { schema, maxTokens: 99, temperature: 0.2, stop: ['END'] }),
        AbortSignal.timeout(5000),
      );
    const body = fake.requests[0]?.body as SentBody;
    expect(body.generationConfig).toMatchObject({
      responseMimeType: 'application/json',
      responseJsonSchema: schema,
      maxOutputTokens: 99,
      temperature: 0.2,
      stopSequences: ['END'],
    });
    expect(res.object).toEqual({ tags: ['example'] });
  });

  it('leaves `object` unset when the text is not JSON (the loop repairs it)', async () => {
    fake.queueAnswers({ text: 'Sure! Here you go: {oops' });
    const res = await subject
      .provider()
      .generate(request(subject, { schema: { type: 'object' } }), AbortSignal.timeout(5000));
    expect(res.object).toBeUndefined();
    expect(res.text).toContain('oops');
  });

  it('declares tools with their JSON Schema and sends function responses back', async () => {
    const tools = [
      { name: 'lookup', description: 'Look up', parameters: { type: 'object', properties: { q: { type: 'string' } } } },
    ];
    await subject.provider().generate(
      request(subject, {
        tools,
        messages: [
          { role: 'user', content: 'find x' },
          {
            role: 'assistant',
            content: '',
            toolCalls: [{ id: 'gemini-call-1', name: 'lookup', arguments: { q: 'x' } }],
          },
          { role: 'tool', toolCallId: 'gemini-call-1', name: 'lookup', content: 'found' },
        ],
      }),
      AbortSignal.timeout(5000),
    );
    const body = fake.requests[0]?.body as SentBody;
    expect(body.tools?.[0]?.functionDeclarations[0]).toMatchObject({
      name: 'lookup',
      parametersJsonSchema: tools[0]?.parameters,
    });
    expect(body.contents.map((c) => c.role)).toEqual(['user', 'model', 'user']);
    expect(body.contents[1]?.parts[0]).toEqual({ functionCall: { name: 'lookup', args: { q: 'x' } } });
    expect(body.contents[2]?.parts[0]).toEqual({ functionResponse: { name: 'lookup', response: { output: 'found' } } });
  });

  it('counts the prompt tokens of built-in tools (toolUsePromptTokenCount) as input, streamed or not', async () => {
    // Google Search grounding: the search results fed to the model are billed as input, and
    // reported apart from promptTokenCount. A step reaches the tool through generation_config.
    const grounded = {
      text: 'the news',
      usage: { input: 40, output: 7, cacheRead: 10, toolUsePrompt: 5000 },
    };
    const extra = { generation_config: { tools: [{ googleSearch: {} }] } };
    fake.queueAnswers(grounded, grounded);
    const res = await subject.provider().generate(request(subject, { extra }), AbortSignal.timeout(5000));
    expect(fake.requests[0]?.body).toMatchObject({ tools: [{ googleSearch: {} }] });
    // The whole prompt: its own 40 (the 10 cached among them) and the tools' 5000.
    expect(res.usage).toEqual({ inputTokens: 5040, outputTokens: 7, cacheReadTokens: 10 });
    // Priced as input: 5030 uncached at $0.30/M, 10 cache reads at $0.03/M, 7 output at $2.50/M.
    expect(priceCall('gemini', 'gemini-2.5-flash', res.usage)).toBeCloseTo(
      (5030 * 0.3 + 10 * 0.03 + 7 * 2.5) / 1e6,
      12,
    );
    const { done } = await collect(subject.provider().stream(request(subject, { extra }), AbortSignal.timeout(5000)));
    expect(done?.usage).toEqual({ inputTokens: 5040, outputTokens: 7, cacheReadTokens: 10 });
  });

  it('reads the retry delay of a 429 from RetryInfo when there is no header', async () => {
    fake.injectFault({
      kind: 'status',
      status: 429,
      body: {
        error: {
          code: 429,
          message: 'Resource exhausted',
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '12s' }],
        },
      },
    });
    const err = (await rejection(
      subject.provider().generate(request(subject), AbortSignal.timeout(5000)),
    )) as ProviderError;
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(12_000);
    expect(err.message).toContain('Resource exhausted');
  });

  it('sends the key in x-goog-api-key to the configured base URL', async () => {
    await subject.provider().generate(request(subject), AbortSignal.timeout(5000));
    expect(fake.requests[0]?.path).toBe(`/v1beta/models/${subject.model}:generateContent`);
    expect(fake.requests[0]?.headers['x-goog-api-key']).toBeTruthy();
  });

  it('sends a function call back with its thought signature (Gemini 3 refuses it without)', async () => {
    const tools = [{ name: 'lookup', description: 'Look up', parameters: { type: 'object' } }];
    const ask = { model: 'gemini-3-pro-preview', tools };
    fake.queueAnswers({ toolCalls: [{ name: 'lookup', arguments: { q: 'x' } }] }, { text: 'x is 42' });
    const { done: first } = await collect(
      subject
        .provider()
        .stream(
          request(subject, { ...ask, messages: [{ role: 'user', content: 'find x' }] }),
          AbortSignal.timeout(5000),
        ),
    );
    const call = first?.toolCalls[0];
    if (!call) throw new Error('no tool call');
    const second = await subject.provider().generate(
      request(subject, {
        ...ask,
        messages: [
          { role: 'user', content: 'find x' },
          { role: 'assistant', content: '', toolCalls: [call] },
          { role: 'tool', toolCallId: call.id, name: 'lookup', content: '42' },
        ],
      }),
      AbortSignal.timeout(5000),
    );
    expect(second.text).toBe('x is 42');
    const sent = fake.requests[1]?.body as SentBody;
    expect(sent.contents[1]?.parts[0]?.thoughtSignature).toBe(Buffer.from('signature of lookup').toString('base64'));
  });
});
