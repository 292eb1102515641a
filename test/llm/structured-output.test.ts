// Structured output through the loop and each real SDK: native mechanism, one repair, and failure
// after max_repairs naming the validation errors.
import { describe, expect, it } from 'vitest';
import { providerCaller, RefusalError, runLlmCall, StructuredOutputError } from '../../src/llm/index.js';
import type { FakeAnswer } from '../fakes/index.js';
import { rejection, request, subjects } from '../providers/harness.js';

const schema = {
  type: 'object',
  properties: { verdict: { type: 'string', enum: ['approve', 'reject'] }, score: { type: 'integer' } },
  required: ['verdict', 'score'],
};

/** An invalid first answer in each vendor's terms: not JSON where the answer is text, wrong shape for Claude's tool input. */
function invalidAnswer(name: string): FakeAnswer {
  return name === 'anthropic' ? { json: { verdict: 'maybe' } } : { text: 'I think it is fine.' };
}

const all = subjects();

describe.each(all)('structured output via $name', (subject) => {
  it('repairs an invalid answer once by re-asking with the errors', async () => {
    subject.fake.queueAnswers(
      { ...invalidAnswer(subject.name), usage: { input: 100, output: 10 } },
      { json: { verdict: 'approve', score: 4 }, usage: { input: 150, output: 12 } },
    );
    const result = await runLlmCall({
      request: request(subject, { schema }),
      call: providerCaller(subject.provider()),
      signal: AbortSignal.timeout(5000),
    });
    expect(result.object).toEqual({ verdict: 'approve', score: 4 });
    expect(result.repairs).toBe(1);
    expect(result.calls).toBe(2);
    expect(result.usage).toMatchObject({ inputTokens: 250, outputTokens: 22 });
    expect(result.costUsd).toBeGreaterThan(0);
    const second = subject.fake.requests[1]?.rawBody ?? '';
    expect(second).toContain('does not satisfy the required JSON schema');
    expect(second).toContain(subject.name === 'anthropic' ? 'must be one of' : 'not valid JSON');
  });

  // An empty answer (a model that spent its cap thinking) is repaired without an empty assistant
  // turn: the Anthropic API refuses a request holding one (400), so the repair itself failed.
  it('repairs an empty answer without sending an empty assistant turn', async () => {
    subject.fake.queueAnswers({ text: '' }, { json: { verdict: 'reject', score: 1 } });
    const result = await runLlmCall({
      request: request(subject, { schema }),
      call: providerCaller(subject.provider()),
      signal: AbortSignal.timeout(5000),
    });
    expect(result.object).toEqual({ verdict: 'reject', score: 1 });
    expect(result.repairs).toBe(1);
    const second = subject.fake.requests[1]?.rawBody ?? '';
    expect(second).toContain('Your previous answer was empty');
  });

  it('fails after max_repairs, naming the errors', async () => {
    subject.fake.setScript(() => ({ json: { verdict: 'approve' } })); // score always missing
    const err = await rejection(
      runLlmCall({
        request: request(subject, { schema }),
        call: providerCaller(subject.provider()),
        signal: AbortSignal.timeout(5000),
        maxRepairs: 1,
      }),
    );
    expect(err).toBeInstanceOf(StructuredOutputError);
    expect((err as StructuredOutputError).errors.join()).toContain("must have required property 'score'");
    expect((err as Error).message).toContain('after 2 attempt(s)');
    expect(subject.fake.requests).toHaveLength(2);
  });
});

describe('a refusal (OpenAI structured outputs)', () => {
  const subject = all.find((s) => s.name === 'openai');
  if (!subject) throw new Error('no openai subject');

  it.each([false, true])(
    'ends the call with a RefusalError carrying its text, never a repair (stream: %s)',
    async (stream) => {
      const refusal = "I'm sorry, I can't assist with that request.";
      subject.fake.setScript(() => ({ refusal, usage: { input: 40, output: 9 } }));
      const err = await rejection(
        runLlmCall({
          request: request(subject, { schema }),
          call: providerCaller(subject.provider()),
          stream,
          signal: AbortSignal.timeout(5000),
        }),
      );
      expect(err).toBeInstanceOf(RefusalError);
      expect((err as RefusalError).refusal).toBe(refusal);
      expect((err as RefusalError).retryable).toBe(false);
      expect((err as Error).message).toContain(refusal);
      expect(subject.fake.requests).toHaveLength(1); // not re-asked
    },
  );
});

// A vendor's content filter that stops an answer (Gemini SAFETY, OpenAI content_filter, Claude's
// refusal) is the vendor's final word too: a repair would pay to be stopped again, and without a
// schema the cut text (often empty) passed for the step's answer.
describe.each(all)('an answer stopped by $name’s content filter', (subject) => {
  it.each([true, false])('ends the call with a RefusalError, never a repair (schema: %s)', async (withSchema) => {
    subject.fake.setScript(() => ({
      text: 'Here is',
      finishReason: 'content_filter',
      usage: { input: 30, output: 2 },
    }));
    const err = await rejection(
      runLlmCall({
        request: request(subject, withSchema ? { schema } : {}),
        call: providerCaller(subject.provider()),
        signal: AbortSignal.timeout(5000),
      }),
    );
    expect(err).toBeInstanceOf(RefusalError);
    expect((err as RefusalError).retryable).toBe(false);
    expect(subject.fake.requests).toHaveLength(1);
  });
});
