// A consumer that stops reading a stream (a `break`, a throw inside its loop) with its signal still
// live: the HTTP request must be closed all the same — left open, the model goes on writing an answer
// nobody reads, and it is billed. The Anthropic and openai SDKs abort their request then; the Gemini
// SDK only releases its reader, so the provider closes the request itself.
import { describe, expect, it } from 'vitest';
import { request, subjects } from './harness.js';

describe.each(subjects())('$name provider: a stream its consumer stops reading', (subject) => {
  it('closes the HTTP request, though the signal never fired', async () => {
    const { fake } = subject;
    fake.chunkDelayMs = 100; // the answer is still being written when the consumer leaves
    fake.queueAnswers({ text: 'one two three four five six', chunks: 6 });
    const signal = new AbortController().signal;
    for await (const chunk of subject.provider().stream(request(subject), signal)) {
      expect(chunk.type).toBe('text');
      break;
    }
    await fake.waitFor(() => fake.requests[0]?.aborted === true, 1000);
    expect(signal.aborted).toBe(false);
  });
});
