// The provider gate's overhead per call (retry ▸ bulkhead ▸ breaker ▸ timeout, plus a cache miss:
// key, lookup, put) against a direct SDK call to the same fake server, and the latency of a cache hit.
// Run: npx tsx bench/gate.bench.ts [calls]
import { CallCache } from '../src/journal/call-cache.js';
import { AnthropicProvider } from '../src/providers/anthropic.js';
import type { ModelRequest } from '../src/providers/provider.js';
import { GateRegistry } from '../src/resilience/gate-registry.js';
import { createModelCaller } from '../src/resilience/model-caller.js';
import { EventBus } from '../src/telemetry/event-bus.js';
import { AnthropicFake } from '../test/fakes/index.js';

const calls = Number(process.argv[2] ?? 300);
const request = (i: number): ModelRequest => ({
  provider: 'anthropic',
  model: 'claude-haiku-4-5',
  messages: [{ role: 'user', content: `bench ${i}` }],
  maxTokens: 50,
});

async function timePerCall(label: string, fn: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await fn(-1 - i); // warm up connections and JIT
  const started = performance.now();
  for (let i = 0; i < calls; i++) await fn(i);
  const perCall = (performance.now() - started) / calls;
  console.log(`${label.padEnd(34)} ${(perCall * 1000).toFixed(0).padStart(7)} µs/call`);
  return perCall;
}

const fake = new AnthropicFake();
await fake.start();
const provider = new AnthropicProvider({ apiKey: 'sk-bench-0000', baseUrl: fake.baseUrl });
const signal = new AbortController().signal;
const bus = new EventBus();
const caller = createModelCaller({
  resolveProvider: () => provider,
  gates: new GateRegistry(bus),
  cache: new CallCache(undefined, { maxEntries: 10_000 }),
  bus,
  runId: 'bench',
  step: 'bench',
  price: () => 0,
});

console.log(`${calls} sequential calls to the Anthropic fake (node ${process.version})`);
const direct = await timePerCall('direct SDK call', (i) => provider.generate(request(i), signal));
const gated = await timePerCall('through the gate (cache miss)', (i) =>
  caller(request(calls + 100 + i), { signal, stream: false }),
);
const hit = await timePerCall('cache hit', () => caller(request(calls + 100), { signal, stream: false }));
console.log(
  `gate overhead: ${((gated - direct) * 1000).toFixed(0)} µs/call; a cache hit is ${(direct / hit).toFixed(0)}× faster than a call`,
);
await fake.stop();
