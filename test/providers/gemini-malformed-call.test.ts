// Gemini's answer when the model wrote a function call the API could not parse: no content, only
// finishReason MALFORMED_FUNCTION_CALL (a frequent one with tools). It is not an empty answer that
// finished: taken for one, a step with tools ended "successfully" with no text and no tool run. It is
// a malformed answer, as an OpenAI tool call whose arguments are not JSON is: invalid_response,
// retried, and billed (the prompt was read) — streamed or not.
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/providers/provider-error.js';
import { collect, rejection, request, subjects } from './harness.js';

const subject = subjects().find((s) => s.name === 'gemini');
if (!subject) throw new Error('no gemini subject');
const { fake } = subject;

const tools = [{ name: 'lookup', description: 'Look up', parameters: { type: 'object' } }];
const malformed = { malformedCall: "print(default_api.lookup(q='x'))", usage: { input: 321 } };

describe('gemini provider: a malformed function call', () => {
  it.each([
    ['generate', () => subject.provider().generate(request(subject, { tools }), AbortSignal.timeout(5000))],
    ['stream', () => collect(subject.provider().stream(request(subject, { tools }), AbortSignal.timeout(5000)))],
  ])('is a retryable invalid_response carrying the billed usage (%s)', async (_how, call) => {
    fake.queueAnswers(malformed);
    const err = (await rejection(call())) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe('invalid_response');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('MALFORMED_FUNCTION_CALL');
    expect(err.usage).toEqual({ inputTokens: 321, outputTokens: 0 });
  });
});
