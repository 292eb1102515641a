// What only Claude does: forced tool use for structured output, tool results in the user turn,
// cache usage, and the `error` event in the middle of a 200 stream.
import { describe, expect, it } from 'vitest';
import { priceCall } from '../../src/pricing/price-call.js';
import { ANTHROPIC_DEFAULT_MAX_TOKENS } from '../../src/providers/anthropic.js';
import type { Usage } from '../../src/providers/provider.js';
import type { ProviderError } from '../../src/providers/provider-error.js';
import { faults } from '../fakes/index.js';
import { collect, rejection, request, subjects } from './harness.js';

const subject = subjects().find((s) => s.name === 'anthropic');
if (!subject) throw new Error('no anthropic subject');
const { fake } = subject;

interface SentBody {
  max_tokens: number;
  tool_choice?: unknown;
  tools?: Array<{ name: string; input_schema: unknown }>;
  messages: Array<{ role: string; content: Array<Record<string, unknown>> }>;
}

describe('anthropic provider', () => {
  it('forces a single tool whose input_schema is the schema, and defaults max_tokens', async () => {
    const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
    const res = await subject.provider().generate(request(subject, { schema }), AbortSignal.timeout(5000));
    const body = fake.requests[0]?.body as SentBody;
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'structured_output' });
    expect(body.tools?.[0]?.input_schema).toEqual(schema);
    expect(body.max_tokens).toBe(ANTHROPIC_DEFAULT_MAX_TOKENS);
    expect(res.object).toEqual({ n: 1 }); // the fake's sample of the schema
  });

  it('wraps a schema whose root is not an object, and unwraps the answer', async () => {
    const schema = { type: 'array', items: { type: 'string' } };
    fake.queueAnswers({ json: { value: ['a', 'b'] } });
    const res = await subject.provider().generate(request(subject, { schema }), AbortSignal.timeout(5000));
    expect(res.object).toEqual(['a', 'b']);
  });

  it('sends tool results in one user turn after the assistant tool_use turn', async () => {
    await subject.provider().generate(
      request(subject, {
        messages: [
          { role: 'user', content: 'read both' },
          {
            role: 'assistant',
            content: '',
            toolCalls: [
              { id: 't1', name: 'read_file', arguments: { path: 'a' } },
              { id: 't2', name: 'read_file', arguments: { path: 'b' } },
            ],
          },
          { role: 'tool', toolCallId: 't1', name: 'read_file', content: 'A' },
          { role: 'tool', toolCallId: 't2', name: 'read_file', content: 'no such file', isError: true },
        ],
      }),
      AbortSignal.timeout(5000),
    );
    const body = fake.requests[0]?.body as SentBody;
    expect(body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(body.messages[2]?.content).toEqual([
      { type: 'tool_result', tool_use_id: 't1', content: 'A' },
      { type: 'tool_result', tool_use_id: 't2', content: 'no such file', is_error: true },
    ]);
  });

  it('reports prompt-cache reads and writes inside inputTokens, streamed or not', async () => {
    const usage = { input: 160, output: 2, cacheRead: 100, cacheWrite: 50 };
    fake.queueAnswers({ text: 'x', usage }, { text: 'x', usage });
    const plain = await subject.provider().generate(request(subject), AbortSignal.timeout(5000));
    const { done } = await collect(subject.provider().stream(request(subject), AbortSignal.timeout(5000)));
    for (const res of [plain, done]) {
      expect(res?.usage).toEqual({ inputTokens: 160, outputTokens: 2, cacheReadTokens: 100, cacheWriteTokens: 50 });
    }
  });

  it('reports which cache writes were 1-hour ones (cache_creation), streamed or not, and prices them so', async () => {
    const usage = { input: 160, output: 2, cacheRead: 100, cacheWrite: 50, cacheWrite1h: 30 };
    fake.queueAnswers({ text: 'x', usage }, { text: 'x', usage });
    const plain = await subject.provider().generate(request(subject), AbortSignal.timeout(5000));
    const { done } = await collect(subject.provider().stream(request(subject), AbortSignal.timeout(5000)));
    for (const res of [plain, done]) {
      expect(res?.usage).toEqual({
        inputTokens: 160,
        outputTokens: 2,
        cacheReadTokens: 100,
        cacheWriteTokens: 50,
        cacheWrite1hTokens: 30,
      });
      // Haiku 4.5 per million: 10 uncached × $1, 100 reads × $0.10, 20 5-minute writes × $1.25,
      // 30 1-hour writes × $2, 2 out × $5.
      const usd = (10 * 1 + 100 * 0.1 + 20 * 1.25 + 30 * 2 + 2 * 5) / 1e6;
      expect(priceCall('anthropic', res?.model ?? '', res?.usage as Usage)).toBeCloseTo(usd, 12);
    }
  });

  it('streams a tool_use block from input_json_delta pieces', async () => {
    fake.queueAnswers({ toolCalls: [{ id: 'tu1', name: 'list_files', arguments: { dir: 'src', deep: true } }] });
    const { done } = await collect(subject.provider().stream(request(subject), AbortSignal.timeout(5000)));
    expect(done?.toolCalls).toEqual([{ id: 'tu1', name: 'list_files', arguments: { dir: 'src', deep: true } }]);
    expect(done?.finishReason).toBe('tool_calls');
  });

  it('maps an `error` event in the middle of a stream to its kind (overloaded), never a done', async () => {
    fake.injectFault(faults.streamError(3, 'overloaded_error', 'Overloaded'));
    const chunks: string[] = [];
    const err = (await rejection(
      (async () => {
        for await (const c of subject.provider().stream(request(subject), AbortSignal.timeout(5000)))
          chunks.push(c.type);
      })(),
    )) as ProviderError;
    expect(err.kind).toBe('overloaded');
    expect(err.retryable).toBe(true);
    expect(chunks).not.toContain('done');
  });

  it('reads the anthropic-ratelimit reset header of the exhausted limit when there is no retry-after', async () => {
    const reset = new Date(Date.now() + 20_000).toISOString();
    fake.injectFault({
      kind: 'status',
      status: 429,
      headers: { 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': reset },
    });
    const err = (await rejection(
      subject.provider().generate(request(subject), AbortSignal.timeout(5000)),
    )) as ProviderError;
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBeGreaterThan(15_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(20_000);
  });
});
