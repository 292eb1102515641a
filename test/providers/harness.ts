// The three real providers, each wired to its fake server, for tests that run the same scenario
// through every SDK.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { GeminiProvider } from '../../src/providers/gemini.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { ModelRequest, ModelResponse, Provider, StreamChunk } from '../../src/providers/provider.js';
import { AnthropicFake, type FakeServer, GeminiFake, OpenAIFake } from '../fakes/index.js';

/** A key shaped like a real one, so that a test can prove it never leaks into a message. */
export const SECRET_KEY = 'sk-test-SECRET-0123456789abcdef';

export interface Subject {
  name: 'anthropic' | 'gemini' | 'openai';
  fake: FakeServer;
  model: string;
  provider: () => Provider;
}

export function subjects(): Subject[] {
  const anthropic = new AnthropicFake();
  const gemini = new GeminiFake();
  const openai = new OpenAIFake();
  const list: Subject[] = [
    {
      name: 'anthropic',
      fake: anthropic,
      model: 'claude-haiku-4-5',
      provider: () => new AnthropicProvider({ apiKey: SECRET_KEY, baseUrl: anthropic.baseUrl }),
    },
    {
      name: 'gemini',
      fake: gemini,
      model: 'gemini-2.5-flash',
      provider: () => new GeminiProvider({ apiKey: SECRET_KEY, baseUrl: gemini.baseUrl }),
    },
    {
      name: 'openai',
      fake: openai,
      model: 'gpt-4o-mini',
      provider: () => new OpenAIProvider({ apiKey: SECRET_KEY, baseUrl: `${openai.baseUrl}/v1` }),
    },
  ];
  beforeAll(async () => {
    await Promise.all(list.map((s) => s.fake.start()));
  });
  afterAll(async () => {
    await Promise.all(list.map((s) => s.fake.stop()));
  });
  beforeEach(() => {
    for (const s of list) s.fake.reset();
  });
  return list;
}

export function request(subject: Subject, overrides: Partial<ModelRequest> = {}): ModelRequest {
  return {
    provider: subject.name,
    model: subject.model,
    messages: [{ role: 'user', content: 'Say hello' }],
    ...overrides,
  };
}

/** Drains a stream: the text chunks in order and the final response (undefined when none came). */
export async function collect(stream: AsyncIterable<StreamChunk>): Promise<{ chunks: string[]; done?: ModelResponse }> {
  const chunks: string[] = [];
  let done: ModelResponse | undefined;
  for await (const chunk of stream) {
    if (chunk.type === 'text') chunks.push(chunk.text);
    else done = chunk.response;
  }
  return done ? { chunks, done } : { chunks };
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, got a result');
}
