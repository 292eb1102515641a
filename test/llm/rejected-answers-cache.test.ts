// What the call cache keeps for the next run. An answer the call loop rejects — a structured answer
// that does not validate, a refusal, a content filter's cut — is not kept: a resume of the failed
// step (or any later run) asks the model again instead of failing at once on the same answer from
// the cache, for as long as its TTL. A stream cut off is no answer at all; a streamed answer is kept
// as a non-streamed one is, and answers either.
import { describe, expect, it } from 'vitest';
import { CallCache } from '../../src/journal/call-cache.js';
import { RefusalError, StructuredOutputError } from '../../src/llm/errors.js';
import { runLlmCall } from '../../src/llm/run-llm-call.js';
import type { ModelResponse, StreamChunk } from '../../src/providers/provider.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { createModelCaller } from '../../src/resilience/model-caller.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { answer, MemoryCallStore, request, StubProvider } from '../resilience/stub-provider.js';

const schema = { type: 'object', required: ['n'], properties: { n: { type: 'number' } } };

/** Two runs of one call loop over one cache (as two runs of a process, or a resume, share it). */
async function twice(provider: StubProvider, options: { schema?: boolean; stream?: boolean[] } = {}) {
  const cache = new CallCache(new MemoryCallStore());
  const outcomes: unknown[] = [];
  for (const stream of options.stream ?? [false, false]) {
    const bus = new EventBus();
    const call = createModelCaller({
      resolveProvider: () => provider,
      gates: new GateRegistry(bus),
      cache,
      bus,
      runId: 'r',
      step: 's',
      price: () => 0.01,
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, jitter: false },
    });
    const req = request('give me a number', options.schema ? { schema } : {});
    outcomes.push(
      await runLlmCall({ request: req, call, signal: new AbortController().signal, maxRepairs: 0, stream }).catch(
        (error: unknown) => error,
      ),
    );
  }
  return outcomes;
}

const withObject = (object: unknown): ModelResponse => ({ ...answer(JSON.stringify(object)), object });

describe('an answer the call loop rejects is not cached', () => {
  it('a structured answer that does not validate: the next run asks again', async () => {
    const provider = new StubProvider(async (n) => withObject(n === 1 ? { n: 'not a number' } : { n: 2 }));
    const [first, second] = await twice(provider, { schema: true });
    expect(first).toBeInstanceOf(StructuredOutputError);
    expect(provider.calls).toBe(2);
    expect(second).toMatchObject({ object: { n: 2 } });
  });

  it('a valid structured answer is cached', async () => {
    const provider = new StubProvider(async () => withObject({ n: 1 }));
    const [first, second] = await twice(provider, { schema: true });
    expect(first).toMatchObject({ object: { n: 1 } });
    expect(second).toMatchObject({ object: { n: 1 } });
    expect(provider.calls).toBe(1);
  });

  it('a refusal, and an answer a content filter stopped: the next run asks again', async () => {
    const refusing = new StubProvider(async (n) => (n === 1 ? { ...answer(''), refusal: 'I cannot' } : answer('ok')));
    const [refused, answered] = await twice(refusing);
    expect(refused).toBeInstanceOf(RefusalError);
    expect(answered).toMatchObject({ text: 'ok' });
    expect(refusing.calls).toBe(2);

    const filtered = new StubProvider(async (n) =>
      n === 1 ? { ...answer(''), finishReason: 'content_filter' } : answer('ok'),
    );
    const [stopped] = await twice(filtered);
    expect(stopped).toBeInstanceOf(RefusalError);
    expect(filtered.calls).toBe(2);
  });
});

describe('streamed answers and the cache', () => {
  it('a streamed answer is cached as a non-streamed one is, and answers either way', async () => {
    const provider = new StubProvider(async () => answer('one two'));
    const [streamed, plain] = await twice(provider, { stream: [true, false] });
    expect(streamed).toMatchObject({ text: 'one two' });
    expect(plain).toMatchObject({ text: 'one two' });
    expect(provider.calls).toBe(1);
    const other = new StubProvider(async () => answer('one two'));
    await twice(other, { stream: [false, true] });
    expect(other.calls).toBe(1);
  });

  it('a stream cut off is never cached: the next run asks again', async () => {
    const provider = new StubProvider(async () => answer('one two'));
    let streams = 0;
    provider.stream = async function* (req, signal): AsyncIterable<StreamChunk> {
      const response = await provider.generate(req, signal);
      yield { type: 'text', text: 'one' };
      if (++streams === 1) throw new ProviderError('stub', 'connection', 'the stream was cut off before its end');
      yield { type: 'done', response };
    };
    const [cut, whole] = await twice(provider, { stream: [true, true] });
    expect(cut).toBeInstanceOf(ProviderError);
    expect(whole).toMatchObject({ text: 'one two' });
    expect(provider.calls).toBe(2);
  });
});
