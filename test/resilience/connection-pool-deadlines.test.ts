// No deadline but the caller's: a call whose answer takes longer than undici's default
// headersTimeout/bodyTimeout (300 s each), or than the SDKs' default timeout (10 minutes), is not
// cut there (and retried, and paid again) — the caller's AbortSignal is the only deadline, here a
// provider `timeout: 15m`, or a step's through the gate of a provider that declares none (whose
// 300 s default is no cap). Real sockets, real undici, real SDKs against the fakes; only the clock is
// fake, so that "eleven minutes without a byte" takes milliseconds. A control call through an
// undici Agent left at its defaults shows that the fake clock does drive undici's timers: it is cut
// at 300 s, where the pooled call is not.
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, type ProviderConfig } from '../../src/config/schema.js';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { GeminiProvider } from '../../src/providers/gemini.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { ModelRequest, ModelResponse, Provider } from '../../src/providers/provider.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { createProvider } from '../../src/providers/registry.js';
import { closePools, poolOptions } from '../../src/resilience/connection-pool.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { createModelCaller } from '../../src/resilience/model-caller.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { AnthropicFake, type FakeServer, GeminiFake, OpenAIFake } from '../fakes/index.js';

const KEY = 'deadline-test-key-0123456789';
/** Longer than undici's default headersTimeout and bodyTimeout (300 s) and the SDKs' default timeout (10 min). */
const ELEVEN_MINUTES = 660_000;

const VENDORS = [
  {
    type: 'anthropic',
    fake: new AnthropicFake(),
    url: (u: string) => u,
    model: 'claude-opus-4-1',
    direct: (baseUrl: string, fetch: typeof globalThis.fetch) => new AnthropicProvider({ apiKey: KEY, baseUrl, fetch }),
  },
  {
    type: 'gemini',
    fake: new GeminiFake(),
    url: (u: string) => u,
    model: 'gemini-2.5-pro',
    direct: (baseUrl: string, fetch: typeof globalThis.fetch) => new GeminiProvider({ apiKey: KEY, baseUrl, fetch }),
  },
  {
    type: 'openai',
    fake: new OpenAIFake(),
    url: (u: string) => `${u}/v1`,
    model: 'o3',
    direct: (baseUrl: string, fetch: typeof globalThis.fetch) => new OpenAIProvider({ apiKey: KEY, baseUrl, fetch }),
  },
] as const;

/** undici as it is out of the box: 300 s for the headers, 300 s of silence in the body. */
const defaultAgent = new Agent();
const defaultFetch = ((input: never, init?: object) =>
  undiciFetch(input, { ...init, dispatcher: defaultAgent } as never)) as unknown as typeof fetch;

// The clock is fake for the whole file, from before undici arms its first timer: undici keeps one
// timer for all its deadlines, created on first use and refreshed after — armed on a real clock, it
// would not see the fake one move.
const FAKED = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] as const;
beforeAll(async () => {
  vi.useFakeTimers({ toFake: [...FAKED] });
  await Promise.all(VENDORS.map((v) => v.fake.start()));
});
afterEach(async () => {
  for (const v of VENDORS) v.fake.reset();
  await closePools();
});
afterAll(async () => {
  await Promise.all(VENDORS.map((v) => v.fake.stop()));
  await defaultAgent.close();
  vi.useRealTimers();
});

type Outcome = { value: unknown } | { error: unknown };

/**
 * Starts `call` against `fake`, which holds its answer until released: the server says nothing
 * meanwhile — before the headers (`headers`), or after the first event of a stream (`body`).
 * Resolves once the server is holding (real I/O).
 */
async function heldCall(fake: FakeServer, where: 'headers' | 'body', call: () => Promise<unknown>) {
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let holding = false;
  const hold = async () => {
    holding = true;
    await held;
  };
  if (where === 'headers') {
    fake.setScript(async () => {
      await hold();
      return { text: 'a long think, answered' };
    });
  } else {
    fake.queueAnswers({ text: 'a long think, answered' });
    fake.beforeEvent = (index) => (index === 1 ? hold() : Promise.resolve());
  }
  const outcome: Promise<Outcome> = call().then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  await vi.waitFor(() => expect(holding).toBe(true), { timeout: 5000, interval: 5 });
  return { outcome, release };
}

/** A streamed call drained to its final response. */
async function streamed(provider: Provider, request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
  let done: ModelResponse | undefined;
  for await (const chunk of provider.stream(request, signal)) if (chunk.type === 'done') done = chunk.response;
  if (!done) throw new Error('the stream ended without a response');
  return done;
}

/** The outcome, once it has reached the caller through real I/O (the fake clock does not move meanwhile). */
function settled(outcome: Promise<Outcome>): Promise<Outcome> {
  return vi.waitFor(
    async () => {
      const done = await Promise.race([outcome, new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
      if (!done) throw new Error('not settled yet');
      return done;
    },
    { timeout: 5000, interval: 5 },
  );
}

const ask = (provider: string, model: string): ModelRequest => ({
  provider,
  model,
  messages: [{ role: 'user', content: 'think hard' }],
});

const CASES = VENDORS.flatMap((vendor) =>
  (['headers', 'body'] as const).map((where) => ({
    ...vendor,
    where,
    label: `${vendor.type}, silence ${where === 'headers' ? 'before the headers' : 'mid-stream'}`,
  })),
);

describe.each(CASES)('no transport deadline under the caller’s: $label', (vendor) => {
  const call = (provider: Provider, name: string) => () => {
    const request = ask(name, vendor.model);
    const signal = new AbortController().signal;
    return vendor.where === 'headers' ? provider.generate(request, signal) : streamed(provider, request, signal);
  };

  it('a pooled call silent for eleven minutes gets its answer', async () => {
    const name = `slow_${vendor.type}`;
    const config: ProviderConfig = {
      type: vendor.type,
      base_url: vendor.url(vendor.fake.baseUrl),
      api_key_env: 'K',
      timeout: '15m',
    };
    const provider: Provider = createProvider(name, config, { K: KEY });
    const { outcome, release } = await heldCall(vendor.fake, vendor.where, call(provider, name));
    await vi.advanceTimersByTimeAsync(ELEVEN_MINUTES);
    release();
    expect(await settled(outcome)).toEqual({ value: expect.objectContaining({ text: 'a long think, answered' }) });
    expect(vendor.fake.requests).toHaveLength(1);
    expect(vendor.fake.requests[0]?.aborted).toBe(false);
    // The Anthropic SDK tells the server its own deadline: past any timeout the format allows.
    if (vendor.type === 'anthropic') {
      expect(vendor.fake.requests[0]?.headers['x-stainless-timeout']).toBe(String(Math.trunc(MAX_TIMER_MS / 1000)));
    }
  });

  it('a step `timeout: 15m` through the gate of a provider that declares none: not cut at 300 s', async () => {
    const name = `step_${vendor.type}`;
    const config: ProviderConfig = { type: vendor.type, base_url: vendor.url(vendor.fake.baseUrl), api_key_env: 'K' };
    const provider: Provider = createProvider(name, config, { K: KEY });
    const bus = new EventBus();
    const caller = createModelCaller({
      resolveProvider: () => provider,
      gates: new GateRegistry(bus, { [name]: config }),
      bus,
      runId: 'run-long',
      step: 'think',
      price: () => 0,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, jitter: false },
      timeoutMs: 900_000,
    });
    const { outcome, release } = await heldCall(vendor.fake, vendor.where, () =>
      caller(ask(name, vendor.model), { signal: new AbortController().signal, stream: vendor.where === 'body' }),
    );
    await vi.advanceTimersByTimeAsync(ELEVEN_MINUTES);
    release();
    // Before, the provider's default 300 s capped the attempt: cut, and retried (paid again).
    expect(await settled(outcome)).toEqual({ value: expect.objectContaining({ text: 'a long think, answered' }) });
    expect(vendor.fake.requests).toHaveLength(1);
    expect(vendor.fake.requests[0]?.aborted).toBe(false);
  });

  it('control: undici at its defaults cuts the same call at 300 s', async () => {
    const provider = vendor.direct(vendor.url(vendor.fake.baseUrl), defaultFetch);
    const { outcome, release } = await heldCall(vendor.fake, vendor.where, call(provider, vendor.type));
    await vi.advanceTimersByTimeAsync(ELEVEN_MINUTES);
    const result = await settled(outcome);
    release();
    expect(result).toEqual({ error: expect.any(ProviderError) });
    // undici's HeadersTimeoutError / BodyTimeoutError, as each SDK words it.
    expect(String((result as { error: unknown }).error)).toMatch(/timed out|timeout/i);
  });
});

it('each pool turns undici’s own header and body deadlines off', () => {
  expect(poolOptions(4)).toMatchObject({ connections: 4, headersTimeout: 0, bodyTimeout: 0 });
});
