// A request that gets no answer over the network is a fault of the provider's, whichever SDK
// reports it: a transport that gives up waiting is `timeout` (the openai and Anthropic SDKs say
// only APIConnectionTimeoutError "Request timed out.", no cause — openai's without even a name),
// a refused connection is `connection`. Both are retried and counted by the circuit breaker, so
// a host that hangs opens the circuit. Real SDKs, real undici, against the fakes.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { GeminiProvider } from '../../src/providers/gemini.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { Provider } from '../../src/providers/provider.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { resolveGateOptions } from '../../src/resilience/gate-options.js';
import { ProviderGate } from '../../src/resilience/provider-gate.js';
import { AnthropicFake, type FakeServer, GeminiFake, OpenAIFake } from '../fakes/index.js';
import { rejection, SECRET_KEY } from './harness.js';

/**
 * A transport that gives up after 200 ms without headers: it stands for undici's own deadlines (a
 * connect timeout; the 300 s header and body ones where a client keeps them) and the SDKs' own.
 */
const impatient = new Agent({ headersTimeout: 200 });
const impatientFetch = ((input: never, init?: object) =>
  undiciFetch(input, { ...init, dispatcher: impatient } as never)) as unknown as typeof fetch;

const VENDORS = [
  {
    name: 'anthropic',
    fake: new AnthropicFake(),
    make: (url: string, fetch?: typeof globalThis.fetch) =>
      new AnthropicProvider({ apiKey: SECRET_KEY, baseUrl: url, ...(fetch ? { fetch } : {}) }),
  },
  {
    name: 'gemini',
    fake: new GeminiFake(),
    make: (url: string, fetch?: typeof globalThis.fetch) =>
      new GeminiProvider({ apiKey: SECRET_KEY, baseUrl: url, ...(fetch ? { fetch } : {}) }),
  },
  {
    name: 'openai',
    fake: new OpenAIFake(),
    make: (url: string, fetch?: typeof globalThis.fetch) =>
      new OpenAIProvider({ apiKey: SECRET_KEY, baseUrl: `${url}/v1`, ...(fetch ? { fetch } : {}) }),
  },
] as const;

/** A local port nothing listens on: connecting is refused at once. */
let closedPort = 0;

beforeAll(async () => {
  await Promise.all(VENDORS.map((v) => v.fake.start()));
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedPort = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
afterAll(async () => {
  await Promise.all(VENDORS.map((v) => v.fake.stop()));
  await impatient.close();
});
beforeEach(() => {
  for (const v of VENDORS) v.fake.reset();
});

const ask = (provider: string) => ({
  provider,
  model: 'test-model',
  messages: [{ role: 'user' as const, content: 'hello?' }],
});

/** `calls` calls through a gate whose breaker opens after 3 faults, each tried once; the errors they ended with. */
async function throughGate(name: string, provider: Provider, calls: number) {
  const gate = new ProviderGate(name, resolveGateOptions(name, { circuit_breaker: { failure_threshold: 3 } }));
  const errors: unknown[] = [];
  for (let i = 0; i < calls; i++) {
    errors.push(
      await rejection(
        gate.execute((signal) => provider.generate(ask(name), signal), {
          signal: AbortSignal.timeout(10_000),
          retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, jitter: false },
        }),
      ),
    );
  }
  return { gate, errors };
}

describe.each(VENDORS)('transport failures: $name', (vendor) => {
  const hangs = (fake: FakeServer) => fake.setFaultMode({ kind: 'hang' });

  it('a transport that gives up waiting is a timeout, a provider fault, never a free retry of a bad answer', async () => {
    hangs(vendor.fake);
    const err = await rejection(
      vendor.make(vendor.fake.baseUrl, impatientFetch).generate(ask(vendor.name), AbortSignal.timeout(10_000)),
    );
    expect(err).toBeInstanceOf(ProviderError);
    const pe = err as ProviderError;
    expect(pe.kind).toBe('timeout');
    expect(pe.providerFault).toBe(true);
    expect(pe.retryable).toBe(true);
    expect(pe.message).toMatch(new RegExp(`^${vendor.name}: timed out waiting for the server \\(.*time`, 'i'));
    expect(pe.message).not.toContain(SECRET_KEY);
  });

  it('a host that keeps timing out opens the circuit', async () => {
    hangs(vendor.fake);
    const { gate, errors } = await throughGate(vendor.name, vendor.make(vendor.fake.baseUrl, impatientFetch), 4);
    expect(errors.slice(0, 2).map((e) => (e as ProviderError).kind)).toEqual(['timeout', 'timeout']);
    // The third fault opened the circuit (that call ends with the breaker's error, naming it).
    expect(String(errors[2])).toMatch(/circuit open .*timed out waiting for the server/);
    expect(gate.circuitState).toBe('open');
    // The fourth call failed fast: it never reached the server.
    expect(vendor.fake.requests).toHaveLength(3);
  });

  it('a refused connection is a connection fault, and opens the circuit too', async () => {
    const url = `http://127.0.0.1:${closedPort}`;
    const err = (await rejection(
      vendor.make(url).generate(ask(vendor.name), AbortSignal.timeout(10_000)),
    )) as ProviderError;
    expect(err.kind).toBe('connection');
    expect(err.providerFault).toBe(true);
    expect(err.message).toMatch(new RegExp(`^${vendor.name}: connection failed: `));
    const { gate } = await throughGate(vendor.name, vendor.make(url), 3);
    expect(gate.circuitState).toBe('open');
  });
});
