// The gate's behaviours end to end: createModelCaller ▸ gate ▸ the real vendor SDK ▸ HTTP ▸ the
// protocol-level fake server, which counts what actually reached it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BudgetExceededError, BudgetGuard } from '../../src/budget/budget-guard.js';
import type { ProviderConfig } from '../../src/config/schema.js';
import { ElexirionError } from '../../src/errors.js';
import { CallCache } from '../../src/journal/call-cache.js';
import { CassetteMissError, CassettePlayer, CassetteRecorder } from '../../src/journal/cassette.js';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { GeminiProvider } from '../../src/providers/gemini.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { ModelRequest, Provider, Usage } from '../../src/providers/provider.js';
import { CircuitOpenError } from '../../src/resilience/circuit-breaker.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { type CallStats, createModelCaller, type ModelCallerDeps } from '../../src/resilience/model-caller.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { AnthropicFake, type FakeServer, faults, GeminiFake, OpenAIFake } from '../fakes/index.js';

const KEY = 'sk-test-gates-0123456789';

interface Subject {
  name: 'anthropic' | 'gemini' | 'openai';
  fake: FakeServer;
  model: string;
  provider: (fake: FakeServer) => Provider;
}

const subjects: Subject[] = [
  {
    name: 'anthropic',
    fake: new AnthropicFake(),
    model: 'claude-haiku-4-5',
    provider: (fake) => new AnthropicProvider({ apiKey: KEY, baseUrl: fake.baseUrl }),
  },
  {
    name: 'gemini',
    fake: new GeminiFake(),
    model: 'gemini-2.5-flash',
    provider: (fake) => new GeminiProvider({ apiKey: KEY, baseUrl: fake.baseUrl }),
  },
  {
    name: 'openai',
    fake: new OpenAIFake(),
    model: 'gpt-4o-mini',
    provider: (fake) => new OpenAIProvider({ apiKey: KEY, baseUrl: `${fake.baseUrl}/v1` }),
  },
];

beforeAll(async () => {
  await Promise.all(subjects.map((s) => s.fake.start()));
});
afterAll(async () => {
  await Promise.all(subjects.map((s) => s.fake.stop()));
});
beforeEach(() => {
  for (const s of subjects) s.fake.reset();
});

const price = (_p: string, _m: string, usage: Usage) => (usage.inputTokens + usage.outputTokens) / 1e6;
const once = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, jitter: false };

function caller(subject: Subject, config: ProviderConfig = {}, extra: Partial<ModelCallerDeps> = {}) {
  const bus = new EventBus();
  const stats: CallStats[] = [];
  const provider = subject.provider(subject.fake);
  const call = createModelCaller({
    resolveProvider: () => provider,
    gates: new GateRegistry(bus, { [subject.name]: config }),
    bus,
    runId: 'run-sdk',
    step: 'ask',
    price,
    retry: once,
    onCallFinished: (s) => stats.push(s),
    ...extra,
  });
  return { call, stats, bus };
}

function request(subject: Subject, content = 'Say hello'): ModelRequest {
  return { provider: subject.name, model: subject.model, messages: [{ role: 'user', content }], maxTokens: 50 };
}

const run = () => ({ signal: new AbortController().signal, stream: false });

describe.each(subjects)('gates through the $name SDK', (subject) => {
  it('five consecutive 500s open the breaker; the next call fails fast; a half-open probe closes it', async () => {
    // Long enough that a loaded machine does not reach half-open before the fail-fast call below.
    const { call, bus } = caller(subject, { circuit_breaker: { failure_threshold: 5, recovery_timeout: '500ms' } });
    const states: string[] = [];
    bus.on('pipeline.provider.circuit', (e) => states.push(e.state));
    subject.fake.setFaultMode(faults.serverError());
    for (let i = 0; i < 5; i++) await call(request(subject), run()).catch(() => undefined);
    expect(subject.fake.requests).toHaveLength(5);

    await expect(call(request(subject), run())).rejects.toBeInstanceOf(CircuitOpenError);
    expect(subject.fake.requests).toHaveLength(5);

    subject.fake.setFaultMode(null);
    await sleep(550);
    await expect(call(request(subject), run())).resolves.toMatchObject({ text: 'echo: Say hello' });
    expect(subject.fake.requests).toHaveLength(6);
    expect(states).toEqual(['open', 'half_open', 'closed']);
  });

  it('400s never open the breaker', async () => {
    const { call } = caller(subject, { circuit_breaker: { failure_threshold: 2, recovery_timeout: '10s' } });
    subject.fake.setFaultMode(faults.badRequest());
    for (let i = 0; i < 4; i++)
      await expect(call(request(subject), run())).rejects.toMatchObject({ kind: 'bad_request' });
    subject.fake.setFaultMode(null);
    await expect(call(request(subject), run())).resolves.toBeDefined();
    expect(subject.fake.requests).toHaveLength(5);
  });

  it('with max_concurrency 3 the fake never sees more than 3 requests in flight', async () => {
    const { call } = caller(subject, { max_concurrency: 3 });
    subject.fake.latencyMs = 40;
    await Promise.all(Array.from({ length: 9 }, (_, i) => call(request(subject, `item ${i}`), run())));
    expect(subject.fake.requests).toHaveLength(9);
    expect(subject.fake.peakInFlight).toBe(3);
  });

  it('a timeout aborts the HTTP request: the fake sees its socket closed', async () => {
    const { call } = caller(subject, {}, { timeoutMs: 100 });
    subject.fake.injectFault(faults.hang());
    const started = Date.now();
    await expect(call(request(subject), run())).rejects.toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2000);
    await subject.fake.waitFor(() => subject.fake.requests[0]?.aborted === true, 2000);
    expect(subject.fake.inFlight).toBe(0);
  });

  it('a caller whose own deadline comes first replaces the attempt timer; a later one does not', async () => {
    // The step's timer will stop the call (its signal fires first): the gate arms none of its own.
    const stepStop = new AbortController();
    const reason = new ElexirionError('the step timed out');
    const covered = caller(subject, {}, { timeoutMs: 100, deadline: performance.now() + 50 });
    subject.fake.injectFault(faults.hang());
    const started = Date.now();
    setTimeout(() => stepStop.abort(reason), 400);
    await expect(covered.call(request(subject), { signal: stepStop.signal, stream: false })).rejects.toBe(reason);
    // Not at the 100 ms attempt timeout: at the caller's stop, which closed the socket.
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    await subject.fake.waitFor(() => subject.fake.requests[0]?.aborted === true, 2000);

    subject.fake.reset();
    const uncovered = caller(subject, {}, { timeoutMs: 100, deadline: performance.now() + 60_000 });
    subject.fake.injectFault(faults.hang());
    await expect(uncovered.call(request(subject), run())).rejects.toMatchObject({ kind: 'timeout' });
    await subject.fake.waitFor(() => subject.fake.requests[0]?.aborted === true, 2000);
  });

  it('a 503 is retried with the backoff, whatever reset the headers of limits with room left announce', async () => {
    // OpenAI (and the gateways that copy it) sends its rate-limit headers with every answer, errors
    // included, and a daily request limit resets in hours. Taken for the 503's wait, that reset was
    // past the cap of 60 s, and the 503 was not retried at all.
    const { call, stats, bus } = caller(
      subject,
      {},
      { retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 20, jitter: false } },
    );
    const delays: number[] = [];
    bus.on('pipeline.provider.retry', (e) => delays.push(e.delayMs));
    subject.fake.injectFault({
      kind: 'status',
      status: 503,
      message: 'Service unavailable',
      headers: {
        'x-ratelimit-remaining-requests': '150',
        'x-ratelimit-reset-requests': '7m12s',
        'x-ratelimit-remaining-tokens': '39000',
        'x-ratelimit-reset-tokens': '150ms',
        'anthropic-ratelimit-requests-remaining': '150',
        'anthropic-ratelimit-requests-reset': new Date(Date.now() + 432_000).toISOString(),
      },
    });
    await expect(call(request(subject), run())).resolves.toMatchObject({ text: 'echo: Say hello' });
    expect(delays).toEqual([20]);
    expect(stats[0]).toMatchObject({ attempts: 2, retries: 1 });
    expect(subject.fake.requests).toHaveLength(2);
  });

  it('two identical calls reach the fake once; the second is a cache hit that counts the cost saved', async () => {
    const cache = new CallCache();
    const { call, stats } = caller(subject, {}, { cache });
    const first = await call(request(subject, 'cache me'), run());
    const second = await call(request(subject, 'cache me'), run());
    expect(second).toEqual(first);
    expect(subject.fake.requests).toHaveLength(1);
    expect(stats[1]).toMatchObject({ cached: true, attempts: 0 });
    expect(stats[1]?.costSavedUsd).toBeGreaterThan(0);
    expect(stats[1]?.costSavedUsd).toBe(stats[0]?.costUsd);
    expect(cache.hits).toBe(1);
  });
});

describe('retry-after through the Anthropic SDK', () => {
  const subject = subjects[0] as Subject;

  it('a 429 with retry-after: 2 waits about 2 s, then succeeds', async () => {
    const { call, stats, bus } = caller(
      subject,
      {},
      {
        retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50, jitter: true },
      },
    );
    const delays: number[] = [];
    bus.on('pipeline.provider.retry', (e) => delays.push(e.delayMs));
    subject.fake.injectFault(faults.rateLimited(2));
    const started = Date.now();
    await expect(call(request(subject), run())).resolves.toMatchObject({ text: 'echo: Say hello' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(delays).toEqual([2000]);
    expect(stats[0]).toMatchObject({ attempts: 2, retries: 1 });
    expect(subject.fake.requests).toHaveLength(2);
  });
});

describe('budget and cassettes through the Anthropic SDK', () => {
  const subject = subjects[0] as Subject;

  it('a budget stops before the call that would exceed it; nothing reaches the fake', async () => {
    // $1 per token: the first call (a few tokens) fits $300, the second's worst case (50 out) does not.
    const dear = (_p: string, _m: string, u: Usage) => u.inputTokens + u.outputTokens;
    const budget = new BudgetGuard({ maxCostUsd: 300 }, dear);
    const { call } = caller(subject, {}, { budget, price: dear });
    // (50 output tokens: the request's max_tokens, which the fake, like a real server, never exceeds.)
    subject.fake.queueAnswers({ text: 'short', usage: { input: 210, output: 50 } });
    await call(request(subject, 'one'), run());
    expect(budget.spent.costUsd).toBe(260);
    await expect(call(request(subject, 'two'), run())).rejects.toBeInstanceOf(BudgetExceededError);
    expect(subject.fake.requests).toHaveLength(1);
  });

  it('records a run to a cassette, replays it with the server stopped, and a miss fails loudly', async () => {
    const fake = new AnthropicFake();
    await fake.start();
    const own: Subject = { ...subject, fake };
    const file = join(mkdtempSync(join(tmpdir(), 'elexirion-sdk-cassette-')), 'run.jsonl');
    const recorder = new CassetteRecorder(file);
    const recording = caller(own, {}, { cassette: { record: recorder } });
    const live = [await recording.call(request(own, 'a'), run()), await recording.call(request(own, 'b'), run())];
    recorder.close(); // the run's end (the engine closes it): the recording becomes the cassette
    await fake.stop();

    const replaying = caller(own, {}, { cassette: { replay: new CassettePlayer(file) } });
    expect(await replaying.call(request(own, 'b'), run())).toEqual(live[1]);
    expect(await replaying.call(request(own, 'a'), run())).toEqual(live[0]);
    const miss = await replaying.call(request(own, 'never recorded'), run()).catch((e: unknown) => e);
    expect(miss).toBeInstanceOf(CassetteMissError);
    expect((miss as Error).message).toMatch(/step "ask" \(anthropic\/claude-haiku-4-5/);
    expect(fake.requests).toHaveLength(2);
  });
});
