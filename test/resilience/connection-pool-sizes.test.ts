// The HTTP connection pool follows the gate: a pipeline that declares max_concurrency: 4 for a
// provider gets 4 requests on the wire even after another pipeline declared 1 for that name and
// called first; and two declarations with gates of their own get their own sockets
// (src/resilience/connection-pool.ts keys pools by the gate's identity).
import { afterEach, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/schema.js';
import { createProvider } from '../../src/providers/registry.js';
import { closePools } from '../../src/resilience/connection-pool.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { OpenAIFake } from '../fakes/index.js';

afterEach(async () => {
  await closePools();
});

const req = (i: number) => ({
  provider: 'local',
  model: 'm',
  messages: [{ role: 'user' as const, content: `call ${i}` }],
  maxTokens: 10,
});

it('a pipeline declaring max_concurrency: 4 runs 4 requests at once even after another declared 1', async () => {
  const fake = new OpenAIFake();
  const base = `${await fake.start()}/v1`;
  fake.latencyMs = 100;
  const env = { K: 'k' };
  const narrow: ProviderConfig = { type: 'openai', base_url: base, api_key_env: 'K', max_concurrency: 1 };
  const wide: ProviderConfig = { type: 'openai', base_url: base, api_key_env: 'K', max_concurrency: 4 };
  const registry = new GateRegistry();
  const signal = new AbortController().signal;

  // pipeline A (narrow) runs first: one call
  const a = createProvider('local', narrow, env);
  await registry
    .forPipeline({ local: narrow })
    .gate('local')
    .execute((s) => a.generate(req(0), s), { signal });

  // pipeline B (wide): its gate has 4 slots
  const b = createProvider('local', wide, env);
  const gate = registry.forPipeline({ local: wide }).gate('local');
  expect(gate.options.maxConcurrency).toBe(4);
  fake.peakInFlight = 0;
  await Promise.all([1, 2, 3, 4].map((i) => gate.execute((s) => b.generate(req(i), s), { signal })));
  await fake.stop();
  expect(fake.peakInFlight).toBe(4); // actual: 1 — the pool of "local" was sized 1 by pipeline A
});

it('two declarations of one endpoint with the same max_concurrency (other limits differ) each get their slots on the wire', async () => {
  const fake = new OpenAIFake();
  const base = `${await fake.start()}/v1`;
  fake.latencyMs = 400; // long enough for both requests to be on the wire at once, on a loaded machine too
  const env = { K: 'k' };
  // Gates of their own (their limits differ), whose max_concurrency add up: 1 + 1 in flight.
  const a: ProviderConfig = { type: 'openai', base_url: base, api_key_env: 'K', max_concurrency: 1, max_queue: 5 };
  const b: ProviderConfig = { type: 'openai', base_url: base, api_key_env: 'K', max_concurrency: 1, max_queue: 9 };
  const registry = new GateRegistry();
  const signal = new AbortController().signal;
  const gateA = registry.forPipeline({ local: a }).gate('local');
  const gateB = registry.forPipeline({ local: b }).gate('local');
  expect(gateA).not.toBe(gateB);
  const [pa, pb] = [createProvider('local', a, env), createProvider('local', b, env)];
  fake.peakInFlight = 0;
  await Promise.all([
    gateA.execute((s) => pa.generate(req(1), s), { signal }),
    gateB.execute((s) => pb.generate(req(2), s), { signal }),
  ]);
  await fake.stop();
  expect(fake.peakInFlight).toBe(2); // was 1: one pool of 1 connection for the name and size
});
