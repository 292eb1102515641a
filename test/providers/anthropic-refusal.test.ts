// Claude declining: the answer stops with `stop_reason: refusal` (its streaming classifiers cut the
// answer off), `stop_details.explanation` saying why. It is the model's final word, as OpenAI's
// `refusal` is: the provider returns it as `refusal`, and the call loop ends the call with a
// RefusalError — not an answer that finished (its text is cut off mid-way), not a structured answer
// to repair (each repair paid again for the same refusal, then a misleading "not valid JSON").
import { describe, expect, it } from 'vitest';
import { RefusalError } from '../../src/llm/errors.js';
import { providerCaller } from '../../src/llm/model-caller.js';
import { runLlmCall } from '../../src/llm/run-llm-call.js';
import { collect, rejection, request, subjects } from './harness.js';

const subject = subjects().find((s) => s.name === 'anthropic');
if (!subject) throw new Error('no anthropic subject');
const { fake } = subject;

const WHY = 'The request could enable cyber harm.';
const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };

describe('anthropic provider: a refusal', () => {
  it('is returned as `refusal` (content_filter), streamed or not', async () => {
    fake.queueAnswers({ text: 'Here is how to', refusal: WHY }, { text: 'Here is how to', refusal: WHY });
    const plain = await subject.provider().generate(request(subject), AbortSignal.timeout(5000));
    const { done } = await collect(subject.provider().stream(request(subject), AbortSignal.timeout(5000)));
    for (const res of [plain, done]) {
      expect(res?.refusal).toBe(WHY);
      expect(res?.finishReason).toBe('content_filter');
      expect(res?.usage.inputTokens).toBeGreaterThan(0);
    }
  });

  it('cutting off a tool input mid-stream is a refusal, not a malformed answer to retry', async () => {
    fake.queueAnswers({ toolCalls: [{ name: 'lookup', arguments: { q: 'exploit' } }], cutArguments: 5, refusal: '' });
    const { done } = await collect(subject.provider().stream(request(subject), AbortSignal.timeout(5000)));
    expect(done?.refusal).toBe('');
    expect(done?.toolCalls).toEqual([]);
  });

  it('ends a structured call at once with a RefusalError, with no repair', async () => {
    fake.queueAnswers({ refusal: WHY });
    const err = await rejection(
      runLlmCall({
        request: request(subject, { schema }),
        call: providerCaller(subject.provider()),
        signal: AbortSignal.timeout(5000),
      }),
    );
    expect(err).toBeInstanceOf(RefusalError);
    expect((err as RefusalError).refusal).toBe(WHY);
    expect(fake.requests).toHaveLength(1);
  });
});
