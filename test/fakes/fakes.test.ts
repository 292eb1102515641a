// The fakes themselves: routes, recording, in-flight counting and the faults, seen from plain fetch.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicFake, faults, GeminiFake, OpenAIFake } from './index.js';

const anthropic = new AnthropicFake();
const gemini = new GeminiFake();
const openai = new OpenAIFake();

beforeAll(async () => {
  await Promise.all([anthropic.start(), gemini.start(), openai.start()]);
});
afterAll(async () => {
  await Promise.all([anthropic.stop(), gemini.stop(), openai.stop()]);
});
beforeEach(() => {
  for (const f of [anthropic, gemini, openai]) f.reset();
});

function post(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: signal ?? null,
  });
}

describe('fake servers', () => {
  it('echo the last user message by default and record the request', async () => {
    const res = await post(`${anthropic.baseUrl}/v1/messages`, {
      model: 'claude-haiku-4-5',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hello' }],
    });
    const body = (await res.json()) as { content: Array<{ text: string }> };
    expect(body.content[0]?.text).toBe('echo: hello');
    expect(anthropic.requests).toHaveLength(1);
    expect(anthropic.requests[0]?.body).toMatchObject({ model: 'claude-haiku-4-5' });
  });

  it('answer a Gemini JSON mime type request with JSON text matching the schema', async () => {
    const res = await post(`${gemini.baseUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      contents: [{ role: 'user', parts: [{ text: 'x' }] }],
      generationConfig: {
        responseMimeType: 'application/json',
        responseJsonSchema: { type: 'object', properties: { n: { type: 'integer' } } },
      },
    });
    const body = (await res.json()) as { candidates: Array<{ content: { parts: Array<{ text: string }> } }> };
    expect(JSON.parse(body.candidates[0]?.content.parts[0]?.text ?? '')).toEqual({ n: 1 });
  });

  it('stream OpenAI chunks ending with a usage chunk and [DONE]', async () => {
    const res = await post(`${openai.baseUrl}/v1/chat/completions`, {
      model: 'gpt-4o',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'abcdef' }],
    });
    const text = await res.text();
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    expect(text).toContain('"prompt_tokens"');
  });

  it('inject a queued 429 with retry-after, then answer normally', async () => {
    openai.injectFault(faults.rateLimited(7));
    const first = await post(`${openai.baseUrl}/v1/chat/completions`, { model: 'm', messages: [] });
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('7');
    const second = await post(`${openai.baseUrl}/v1/chat/completions`, { model: 'm', messages: [] });
    expect(second.status).toBe(200);
  });

  it('cut a JSON answer off with a clean end of body (not a hang)', async () => {
    openai.injectFault(faults.truncate(2, 'end'));
    const res = await post(
      `${openai.baseUrl}/v1/chat/completions`,
      { model: 'm', messages: [] },
      AbortSignal.timeout(2000),
    );
    const text = await res.text();
    expect(text.length).toBeGreaterThan(0);
    expect(text.startsWith('{"id":"chatcmpl-fake-')).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
  });

  it('reset the connection', async () => {
    gemini.injectFault(faults.reset());
    await expect(post(`${gemini.baseUrl}/v1beta/models/m:generateContent`, {})).rejects.toThrow();
  });

  it('hang until the client aborts, and record the abort', async () => {
    anthropic.setFaultMode(faults.hang());
    const controller = new AbortController();
    const pending = post(`${anthropic.baseUrl}/v1/messages`, { messages: [] }, controller.signal);
    await anthropic.waitFor(() => anthropic.inFlight === 1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await anthropic.waitFor(() => anthropic.requests[0]?.aborted === true);
    expect(anthropic.inFlight).toBe(0);
  });

  it('count the peak of requests in flight', async () => {
    openai.latencyMs = 500; // long enough that the three overlap on a loaded machine
    await Promise.all([1, 2, 3].map(() => post(`${openai.baseUrl}/v1/chat/completions`, { messages: [] })));
    expect(openai.peakInFlight).toBe(3);
    expect(openai.inFlight).toBe(0);
  });
});
