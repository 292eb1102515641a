// What only the OpenAI-compatible provider does: response_format json_schema, include_usage on
// streams, max_tokens for compatible servers, and running keyless against a local server.
import { describe, expect, it } from 'vitest';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { ProviderError } from '../../src/providers/provider-error.js';
import { sdkLogOptions } from '../../src/providers/sdk-log.js';
import { faults, type OpenAIFake } from '../fakes/index.js';
import { collect, rejection, request, subjects } from './harness.js';

const subject = subjects().find((s) => s.name === 'openai');
if (!subject) throw new Error('no openai subject');
const { fake } = subject;

interface SentBody {
  response_format?: { type: string; json_schema: { name: string; schema: unknown; strict: boolean } };
  stream_options?: unknown;
  max_tokens?: number;
  max_completion_tokens?: number;
  messages: Array<Record<string, unknown>>;
}

describe('openai provider', () => {
  it('asks for json_schema output and wraps a non-object root', async () => {
    const schema = { type: 'string', enum: ['yes', 'no'] };
    fake.queueAnswers({ json: { value: 'no' } });
    const res = await subject.provider().generate(request(subject, { schema }), AbortSignal.timeout(5000));
    const body = fake.requests[0]?.body as SentBody;
    expect(body.response_format?.type).toBe('json_schema');
    expect(body.response_format?.json_schema.schema).toMatchObject({ properties: { value: schema } });
    expect(res.object).toBe('no');
  });

  it('asks for usage on streams and sends the system prompt as a system message', async () => {
    await subject.provider().generate(request(subject, { system: 'sys' }), AbortSignal.timeout(5000));
    const plain = fake.requests[0]?.body as SentBody;
    expect(plain.messages[0]).toEqual({ role: 'system', content: 'sys' });
    for await (const _ of subject.provider().stream(request(subject), AbortSignal.timeout(5000))) {
      // drain
    }
    expect((fake.requests[1]?.body as SentBody | undefined)?.stream_options).toEqual({ include_usage: true });
  });

  it('sends max_tokens to a compatible server (max_completion_tokens is OpenAI-only)', async () => {
    await subject.provider().generate(request(subject, { maxTokens: 50 }), AbortSignal.timeout(5000));
    const body = fake.requests[0]?.body as SentBody;
    expect(body.max_tokens).toBe(50);
    expect(body.max_completion_tokens).toBeUndefined();
  });

  it('runs without a key against a local server (Ollama, vLLM)', async () => {
    const keyless = new OpenAIProvider({ name: 'ollama', baseUrl: `${fake.baseUrl}/v1` });
    const res = await keyless.generate(request(subject, { model: 'llama3.2' }), AbortSignal.timeout(5000));
    expect(res.text).toBe('echo: Say hello');
    expect(keyless.name).toBe('ollama');
  });

  it('sends tool results as tool messages after the assistant tool_calls', async () => {
    await subject.provider().generate(
      request(subject, {
        messages: [
          { role: 'user', content: 'go' },
          { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'f', arguments: { a: 1 } }] },
          { role: 'tool', toolCallId: 'c1', name: 'f', content: 'done' },
        ],
      }),
      AbortSignal.timeout(5000),
    );
    const body = fake.requests[0]?.body as SentBody;
    expect(body.messages[1]).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
    });
    expect(body.messages[2]).toEqual({ role: 'tool', tool_call_id: 'c1', content: 'done' });
  });

  it('waits for the reset of the exhausted limit (tokens), not of the first one named (requests)', async () => {
    // OpenAI's 429 for a tokens-per-minute limit: no retry-after; requests are left, tokens are not.
    fake.injectFault({
      kind: 'status',
      status: 429,
      message: 'Rate limit reached for gpt-4o-mini on tokens per min (TPM)',
      headers: {
        'x-ratelimit-remaining-requests': '4999',
        'x-ratelimit-reset-requests': '12ms',
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': '20.5s',
      },
    });
    const err = (await rejection(
      subject.provider().generate(request(subject), AbortSignal.timeout(5000)),
    )) as ProviderError;
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(20_500);
  });

  it('maps a request error sent inside the stream to bad_request, which is not retried', async () => {
    fake.injectFault(faults.streamError(2, 'invalid_request_error', 'Invalid schema for response_format'));
    const err = (await rejection(
      collect(subject.provider().stream(request(subject), AbortSignal.timeout(5000))),
    )) as ProviderError;
    expect(err.kind).toBe('bad_request');
    expect(err.retryable).toBe(false);
  });

  it('does not retry a 429 that says the account is out of quota', async () => {
    fake.injectFault({
      kind: 'status',
      status: 429,
      body: {
        error: {
          message: 'You exceeded your current quota, please check your plan and billing details.',
          type: 'insufficient_quota',
          param: null,
          code: 'insufficient_quota',
        },
      },
    });
    const err = (await rejection(
      subject.provider().generate(request(subject), AbortSignal.timeout(5000)),
    )) as ProviderError;
    expect(err.status).toBe(429);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('exceeded your current quota');
  });

  it('returns a refusal as `refusal` (content_filter), not as an empty answer, streamed or not', async () => {
    const schema = { type: 'object', properties: { n: { type: 'integer' } } };
    const refusal = "I'm sorry, I can't help with that request.";
    fake.queueAnswers({ refusal }, { refusal, chunks: 3 });
    const plain = await subject.provider().generate(request(subject, { schema }), AbortSignal.timeout(5000));
    const { chunks, done } = await collect(
      subject.provider().stream(request(subject, { schema }), AbortSignal.timeout(5000)),
    );
    for (const res of [plain, done]) {
      expect(res?.refusal).toBe(refusal);
      expect(res?.finishReason).toBe('content_filter');
      expect(res?.object).toBeUndefined();
      expect(res?.usage.inputTokens).toBeGreaterThan(0);
    }
    expect(chunks).toEqual([]); // a refusal is not answer text
  });

  describe('a stream that ends without its usage chunk', () => {
    // api.openai.com, reached through a fetch that delivers to the fake: the provider knows it is OpenAI.
    const openai = () =>
      new OpenAIProvider({
        apiKey: 'sk-test',
        baseUrl: 'https://api.openai.com/v1',
        fetch: (input, init) =>
          fetch(
            String(input instanceof Request ? input.url : input).replace('https://api.openai.com', fake.baseUrl),
            init,
          ),
      });
    // The events of { text: 'hello', chunks: 1 }: role, 'hello', finish_reason, usage, [DONE].
    const cutAfterFinish = () => faults.truncate(3, 'end');

    it('from api.openai.com is cut off: a retryable connection error, not a free call', async () => {
      fake.queueAnswers({ text: 'hello', chunks: 1 });
      fake.injectFault(cutAfterFinish());
      const err = (await rejection(
        collect(openai().stream(request(subject), AbortSignal.timeout(5000))),
      )) as ProviderError;
      expect(err.kind).toBe('connection');
      expect(err.retryable).toBe(true);
      expect(err.message).toContain('usage');
      expect((fake.requests[0]?.body as SentBody | undefined)?.stream_options).toEqual({ include_usage: true });
    });

    it('from api.openai.com with its usage chunk is a success with that usage', async () => {
      fake.queueAnswers({ text: 'hello', chunks: 1, usage: { input: 9, output: 2 } });
      const { done } = await collect(openai().stream(request(subject), AbortSignal.timeout(5000)));
      expect(done?.usage).toEqual({ inputTokens: 9, outputTokens: 2 });
    });

    it('from a compatible server is estimated and flagged, never 0 tokens', async () => {
      // A server that ignores stream_options (never sends usage), and one cut after the finish chunk.
      (fake as OpenAIFake).ignoresStreamOptions = true;
      fake.queueAnswers({ text: 'hello there, how are you today?', chunks: 1 });
      const ignoring = await collect(subject.provider().stream(request(subject), AbortSignal.timeout(5000)));
      (fake as OpenAIFake).ignoresStreamOptions = false;
      fake.queueAnswers({ text: 'hello', chunks: 1 });
      fake.injectFault(cutAfterFinish());
      const cut = await collect(subject.provider().stream(request(subject), AbortSignal.timeout(5000)));
      for (const { done } of [ignoring, cut]) {
        expect(done?.usage.estimated).toBe(true);
        expect(done?.usage.inputTokens).toBeGreaterThan(0);
        expect(done?.usage.outputTokens).toBeGreaterThan(0);
      }
      expect(ignoring.done?.usage.outputTokens).toBe(Math.ceil('hello there, how are you today?'.length / 4));
    });
  });

  it('turns the SDK logging off, unless OPENAI_LOG asks for it (then to stderr, never stdout)', () => {
    expect(sdkLogOptions('OPENAI_LOG', {})).toEqual({ logLevel: 'off' });
    const asked = sdkLogOptions('OPENAI_LOG', { OPENAI_LOG: 'debug' });
    expect('logLevel' in asked).toBe(false);
    expect('logger' in asked && typeof asked.logger.error).toBe('function');
  });
});
