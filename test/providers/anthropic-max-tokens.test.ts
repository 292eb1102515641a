// The max_tokens an Anthropic request sends when the step sets none (the API requires one). The
// default (4096) leaves a thinking budget no room: the API refuses max_tokens not above
// `thinking.budget_tokens` (thinking counts in it), so `thinking: { budget_tokens: 8000 }` failed
// every call with a 400. Nor may it replace a max_tokens the request's extras name (which the budget
// estimate reads as the call's cap).
import { describe, expect, it } from 'vitest';
import { ANTHROPIC_DEFAULT_MAX_TOKENS } from '../../src/providers/anthropic.js';
import { collect, request, subjects } from './harness.js';

const subject = subjects().find((s) => s.name === 'anthropic');
if (!subject) throw new Error('no anthropic subject');
const { fake } = subject;

const sentMaxTokens = () => (fake.requests[0]?.body as { max_tokens?: number } | undefined)?.max_tokens;
const thinking = { type: 'enabled', budget_tokens: 8000 };

describe('anthropic provider: max_tokens when the step sets none', () => {
  it.each(['generate', 'stream'] as const)('leaves the default room after a thinking budget (%s)', async (how) => {
    fake.queueAnswers({ text: 'done' });
    const ask = request(subject, { extra: { thinking } });
    const res =
      how === 'generate'
        ? await subject.provider().generate(ask, AbortSignal.timeout(5000))
        : (await collect(subject.provider().stream(ask, AbortSignal.timeout(5000)))).done;
    expect(res?.text).toBe('done');
    expect(sentMaxTokens()).toBe(8000 + ANTHROPIC_DEFAULT_MAX_TOKENS);
  });

  it('takes a max_tokens from the extras', async () => {
    await subject.provider().generate(request(subject, { extra: { max_tokens: 16_000 } }), AbortSignal.timeout(5000));
    expect(sentMaxTokens()).toBe(16_000);
  });

  it("sends the request's own cap over both", async () => {
    fake.queueAnswers({ text: 'done' });
    await subject
      .provider()
      .generate(
        request(subject, { maxTokens: 9000, extra: { thinking, max_tokens: 16_000 } }),
        AbortSignal.timeout(5000),
      );
    expect(sentMaxTokens()).toBe(9000);
  });
});
