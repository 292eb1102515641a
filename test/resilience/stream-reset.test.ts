// The model caller and a stream cut off mid-answer: the gate retries, and the retry streams the
// answer again from its first token. The caller tells `onStreamReset` before that (the engine turns it
// into `pipeline.step.chunk { reset: true }`), then streams again what this caller's earlier calls
// streamed (a tool loop's earlier turns): a consumer that clears its text at a reset shows exactly
// what the model wrote. Through the real SDKs against the fake servers.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { Provider } from '../../src/providers/provider.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { createModelCaller } from '../../src/resilience/model-caller.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { AnthropicFake, type FakeServer, faults, OpenAIFake } from '../fakes/index.js';

const KEY = 'sk-test-0123456789abcdef';
const anthropic = new AnthropicFake();
const openai = new OpenAIFake();
beforeAll(async () => {
  await Promise.all([anthropic.start(), openai.start()]);
});
afterAll(async () => {
  await Promise.all([anthropic.stop(), openai.stop()]);
});
beforeEach(() => {
  anthropic.reset();
  openai.reset();
});

const ANSWER = 'The quick brown fox jumps over the lazy dog.';

const CASES = [
  {
    name: 'anthropic',
    fake: (): FakeServer => anthropic,
    provider: (): Provider => new AnthropicProvider({ apiKey: KEY, baseUrl: anthropic.baseUrl }),
    model: 'claude-haiku-4-5',
    cut: 6,
  },
  {
    name: 'openai',
    fake: (): FakeServer => openai,
    provider: (): Provider => new OpenAIProvider({ apiKey: KEY, baseUrl: `${openai.baseUrl}/v1` }),
    model: 'gpt-4o-mini',
    cut: 3,
  },
];

/** A consumer: appends chunks, clears at a reset. */
function consumer() {
  const log: string[] = [];
  let text = '';
  return {
    onChunk: (t: string) => {
      log.push(t);
      text += t;
    },
    onStreamReset: () => {
      log.push('<reset>');
      text = '';
    },
    text: () => text,
    log,
  };
}

describe.each(CASES)('$name', ({ name, fake, provider, model, cut }) => {
  function caller(onStreamReset?: () => void) {
    const answerer = provider();
    return createModelCaller({
      resolveProvider: () => answerer,
      gates: new GateRegistry(),
      bus: new EventBus(),
      runId: 'r',
      step: 's',
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, jitter: false },
      price: () => 0,
      ...(onStreamReset ? { onStreamReset } : {}),
    });
  }
  const ask = (call: ReturnType<typeof caller>, onChunk: (t: string) => void) =>
    call(
      { provider: name, model, messages: [{ role: 'user', content: 'go' }] },
      { signal: AbortSignal.timeout(10_000), stream: true, onChunk },
    );

  it('tells of the reset before the retry streams; the consumer shows the answer', async () => {
    fake().queueAnswers({ text: ANSWER, chunks: 4 }, { text: ANSWER, chunks: 4 });
    fake().injectFault(faults.truncate(cut, 'end'));
    const shown = consumer();

    const response = await ask(caller(shown.onStreamReset), shown.onChunk);

    expect(fake().requests.map((r) => r.fault)).toEqual(['truncate', undefined]);
    expect(response.text).toBe(ANSWER);
    const reset = shown.log.indexOf('<reset>');
    expect(reset).toBeGreaterThan(0); // after the cut attempt's first chunks
    expect(shown.log.lastIndexOf('<reset>')).toBe(reset); // once
    expect(shown.text()).toBe(ANSWER);
  });

  it('after a reset, the earlier calls of the caller stream again before the retry', async () => {
    fake().queueAnswers({ text: 'First turn. ', chunks: 2 }, { text: ANSWER, chunks: 4 }, { text: ANSWER, chunks: 4 });
    const shown = consumer();
    const call = caller(shown.onStreamReset);
    await ask(call, shown.onChunk);
    fake().injectFault(faults.truncate(cut, 'end'));
    await ask(call, shown.onChunk);

    expect(shown.log.filter((t) => t === '<reset>')).toHaveLength(1);
    expect(shown.text()).toBe(`First turn. ${ANSWER}`);
  });

  it('a stream that is not cut emits no reset', async () => {
    fake().queueAnswers({ text: ANSWER, chunks: 4 });
    const shown = consumer();
    await ask(caller(shown.onStreamReset), shown.onChunk);
    expect(shown.log).not.toContain('<reset>');
    expect(shown.text()).toBe(ANSWER);
  });
});
