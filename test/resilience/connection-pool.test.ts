// Keep-alive pools per provider, through the real SDKs against the fakes: connections are reused
// across calls, and a provider never opens more sockets than its max_concurrency.
import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/schema.js';
import type { ModelRequest } from '../../src/providers/provider.js';
import { createProvider } from '../../src/providers/registry.js';
import { closePools } from '../../src/resilience/connection-pool.js';
import { AnthropicFake, GeminiFake, OpenAIFake } from '../fakes/index.js';

const VENDORS = [
  { type: 'anthropic', fake: () => new AnthropicFake(), url: (u: string) => u },
  { type: 'gemini', fake: () => new GeminiFake(), url: (u: string) => u },
  { type: 'openai', fake: () => new OpenAIFake(), url: (u: string) => `${u}/v1` },
] as const;

let counter = 0;
const request = (provider: string, i: number): ModelRequest => ({
  provider,
  model: 'test-model',
  messages: [{ role: 'user', content: `call ${i}` }],
  maxTokens: 20,
});

afterEach(async () => {
  await closePools();
});

describe.each(VENDORS)('connection pool: $type', ({ type, fake: makeFake, url }) => {
  async function setup(maxConcurrency: number) {
    const fake = makeFake();
    const base = url(await fake.start());
    const name = `${type}_pool_${++counter}`;
    const config: ProviderConfig = {
      type,
      base_url: base,
      api_key_env: 'POOL_TEST_KEY',
      max_concurrency: maxConcurrency,
    };
    const provider = createProvider(name, config, { POOL_TEST_KEY: 'pool-test-key' });
    return { fake, provider, name };
  }

  it('reuses keep-alive connections for sequential calls', async () => {
    const { fake, provider, name } = await setup(4);
    const signal = new AbortController().signal;
    for (let i = 0; i < 8; i++) await provider.generate(request(name, i), signal);
    expect(fake.requests).toHaveLength(8);
    // A new call can start while the last answer's socket is still being released: one or two
    // sockets serve all eight calls, where a client without keep-alive would open eight.
    expect(fake.connections).toBeLessThanOrEqual(2);
    await fake.stop();
  });

  it('never opens more connections than max_concurrency', async () => {
    const { fake, provider, name } = await setup(2);
    fake.latencyMs = 40;
    const signal = new AbortController().signal;
    await Promise.all(Array.from({ length: 8 }, (_, i) => provider.generate(request(name, i), signal)));
    expect(fake.requests).toHaveLength(8);
    expect(fake.peakOpenConnections).toBeLessThanOrEqual(2);
    expect(fake.peakInFlight).toBe(2); // the pool, not the fake, queued the other calls
    await fake.stop();
  });
});
