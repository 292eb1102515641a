import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { BudgetExceededError, BudgetGuard } from '../../src/budget/budget-guard.js';
import { CallCache } from '../../src/journal/call-cache.js';
import { CassetteMissError, CassettePlayer, CassetteRecorder } from '../../src/journal/cassette.js';
import type { Usage } from '../../src/providers/provider.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { type CallStats, createModelCaller, type ModelCallerDeps, payerOf } from '../../src/resilience/model-caller.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import type { ElexirionEvent } from '../../src/telemetry/events.js';
import { answer, fault, MemoryCallStore, request, StubProvider } from './stub-provider.js';

const price = (_p: string, _m: string, usage: Usage) => (usage.inputTokens + usage.outputTokens) / 1000;

function setup(provider: StubProvider, extra: Partial<ModelCallerDeps> = {}) {
  const bus = new EventBus();
  const events: ElexirionEvent[] = [];
  bus.onAny((event) => events.push(event));
  const stats: CallStats[] = [];
  const caller = createModelCaller({
    resolveProvider: () => provider,
    gates: new GateRegistry(bus),
    bus,
    runId: 'run-1',
    step: 'summarize',
    price,
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, jitter: false },
    onCallFinished: (s) => stats.push(s),
    ...extra,
  });
  return { caller, events, stats, bus };
}

const opts = () => ({ signal: new AbortController().signal, stream: false });

describe('createModelCaller', () => {
  it('calls the provider through the gate and reports attempts, retries and cost', async () => {
    const provider = new StubProvider(async (n) => {
      if (n === 1) throw fault('overloaded', { status: 529 });
      return answer('done', { inputTokens: 100, outputTokens: 20 });
    });
    const { caller, events, stats } = setup(provider);
    const response = await caller(request(), opts());
    expect(response.text).toBe('done');
    expect(stats).toEqual([
      expect.objectContaining({ attempts: 2, retries: 1, cached: false, costUsd: 0.12, provider: 'stub' }),
    ]);
    expect(events.map((e) => e.type)).toEqual([
      'pipeline.provider.request',
      'pipeline.provider.retry',
      'pipeline.provider.request',
      'pipeline.provider.response',
    ]);
    expect(events[0]?.data).toMatchObject({ runId: 'run-1', step: 'summarize', attempt: 1 });
    expect(events[3]?.data).toMatchObject({ cached: false, costUsd: 0.12 });
  });

  it('answers an identical call from the cache, counting the cost saved', async () => {
    const provider = new StubProvider();
    const cache = new CallCache(new MemoryCallStore());
    const { caller, events, stats } = setup(provider, { cache });
    await caller(request('same'), opts());
    const second = await caller(request('same'), opts());
    expect(second.text).toBe('ok');
    expect(provider.calls).toBe(1);
    expect(stats[1]).toMatchObject({ cached: true, attempts: 0, costUsd: 0, costSavedUsd: 0.015 });
    expect(events.find((e) => e.type === 'pipeline.cache.hit')?.data).toMatchObject({ costSavedUsd: 0.015 });
    await caller(request('different'), opts());
    expect(provider.calls).toBe(2);
  });

  it("counts as paid, not saved, a hit on its own step's answer paid in another execution no record bills", async () => {
    const provider = new StubProvider();
    const cache = new CallCache(new MemoryCallStore());
    // The execution that paid (and crashed before its step was journaled), then the one after it.
    const crashed = setup(provider, { cache, payer: payerOf('run-1', 'summarize', 'e1') });
    await crashed.caller(request('same'), opts());
    expect(provider.calls).toBe(1);
    const billed = new Set<string>();
    const next = setup(provider, {
      cache,
      payer: payerOf('run-1', 'summarize', 'e2'),
      billedAlready: async (execution) => billed.has(execution),
    });
    await next.caller(request('same'), opts());
    expect(provider.calls).toBe(1); // no second request
    expect(next.stats[0]).toMatchObject({ cached: true, recovered: true, costUsd: 0.015, costSavedUsd: 0 });
    expect(next.events.some((e) => e.type === 'pipeline.cache.hit')).toBe(false);
    // Once a journaled record carries e1's bill, the same hit is a saving: never counted twice.
    billed.add('e1');
    await next.caller(request('same'), opts());
    expect(next.stats[1]).toMatchObject({ cached: true, costUsd: 0, costSavedUsd: 0.015 });
    expect(next.stats[1]?.recovered).toBeUndefined();
    // Another step's (or run's) answer, or this execution's own, is a saving too.
    const other = setup(provider, { cache, payer: payerOf('run-1', 'summarize-more', 'e2') });
    await other.caller(request('same'), opts());
    expect(other.stats[0]).toMatchObject({ costUsd: 0, costSavedUsd: 0.015 });
    const again = setup(provider, { cache, payer: payerOf('run-1', 'summarize', 'e1') });
    await again.caller(request('same'), opts());
    expect(again.stats[0]).toMatchObject({ costUsd: 0, costSavedUsd: 0.015 });
  });

  it("commits a paid hit's cost to this execution's budget at once, and nothing for a saving", async () => {
    const provider = new StubProvider();
    const cache = new CallCache(new MemoryCallStore());
    const crashed = setup(provider, { cache, payer: payerOf('run-1', 'summarize', 'e1') });
    await crashed.caller(request('same'), opts());
    // The next execution's budget, opened from the journal: e1 journaled nothing.
    const budget = new BudgetGuard({ maxCostUsd: 1 }, price);
    const next = setup(provider, { cache, budget, payer: payerOf('run-1', 'summarize', 'e2') });
    await next.caller(request('same'), opts());
    expect(next.stats[0]).toMatchObject({ recovered: true, costUsd: 0.015 });
    expect(budget.spent).toEqual({ costUsd: 0.015, tokens: 15 });
    // A hit on another step's answer saved its cost: it spends nothing.
    const other = setup(provider, { cache, budget, payer: payerOf('run-1', 'other', 'e2') });
    await other.caller(request('same'), opts());
    expect(other.stats[0]).toMatchObject({ costUsd: 0, costSavedUsd: 0.015 });
    expect(budget.spent).toEqual({ costUsd: 0.015, tokens: 15 });
  });

  it("asks whether an item paid in another execution is billed already with the caller's own step", async () => {
    // One billedAlready serves every item of a batch: it is told which item asks.
    const provider = new StubProvider();
    const cache = new CallCache(new MemoryCallStore());
    const crashed = setup(provider, { cache, step: 'each[3]', payer: payerOf('run-1', 'each[3]', 'e1') });
    await crashed.caller(request('same'), opts());
    const asked: [string, string][] = [];
    const next = setup(provider, {
      cache,
      step: 'each[3]',
      payer: payerOf('run-1', 'each[3]', 'e2@1'),
      billedAlready: async (execution, step) => {
        asked.push([execution, step]);
        return false;
      },
    });
    await next.caller(request('same'), opts());
    expect(asked).toEqual([['e1', 'each[3]']]);
    expect(next.stats[0]).toMatchObject({ recovered: true, costUsd: 0.015 });
  });

  it('a cache that cannot record is a warning: the paid answer is still the call result, whether the cache throws or rejects', async () => {
    const warnings: string[] = [];
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error) => {
      warnings.push(String(warning));
    });
    try {
      for (const [how, put] of [
        [
          'throws',
          () => {
            throw new Error('out of memory for the cache');
          },
        ],
        ['rejects', () => Promise.reject(new Error('the journal is read-only'))],
      ] as const) {
        const provider = new StubProvider(async () => answer(`answer ${how}`));
        const cache = new CallCache(new MemoryCallStore());
        vi.spyOn(cache, 'put').mockImplementation(put);
        const { caller, stats } = setup(provider, { cache });
        await expect(caller(request(how), opts())).resolves.toMatchObject({ text: `answer ${how}` });
        expect(stats[0]).toMatchObject({ cached: false, attempts: 1, costUsd: 0.015 });
        expect(stats[0]?.error).toBeUndefined();
      }
      expect(warnings).toEqual([
        'call cache: not recorded (out of memory for the cache)',
        'call cache: not recorded (the journal is read-only)',
      ]);
    } finally {
      warn.mockRestore();
    }
  });

  it('a cache that cannot be read is a miss: the provider answers, the call is reported, a warning says why', async () => {
    // The journal's database gone for a moment (a PostgreSQL connection lost, SQLITE_BUSY).
    class UnreadableStore extends MemoryCallStore {
      override async getCall(): Promise<never> {
        this.gets++;
        throw new Error('connection terminated unexpectedly');
      }
    }
    const store = new UnreadableStore();
    const warnings: string[] = [];
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error) => {
      warnings.push(String(warning));
    });
    try {
      const provider = new StubProvider(async () => answer('from the provider'));
      const cache = new CallCache(store);
      const { caller, stats, events } = setup(provider, { cache });
      await expect(caller(request('unread'), opts())).resolves.toMatchObject({ text: 'from the provider' });
      expect(store.gets).toBe(1);
      expect(provider.calls).toBe(1);
      expect(stats).toEqual([expect.objectContaining({ cached: false, attempts: 1, costUsd: 0.015 })]);
      expect(stats[0]?.error).toBeUndefined();
      expect(events.filter((e) => e.type === 'pipeline.provider.response')).toHaveLength(1);
      expect(warnings).toEqual(['call cache: not read (connection terminated unexpectedly)']);
      // The answer was still recorded: the next identical call is a hit, from memory.
      await expect(caller(request('unread'), opts())).resolves.toMatchObject({ text: 'from the provider' });
      expect(provider.calls).toBe(1);
      expect(stats[1]).toMatchObject({ cached: true });
    } finally {
      warn.mockRestore();
    }
  });

  it('cache: false neither reads nor writes the cache', async () => {
    const provider = new StubProvider();
    const cache = new CallCache();
    const { caller } = setup(provider, { cache, ttlMs: false });
    await caller(request(), opts());
    await caller(request(), opts());
    expect(provider.calls).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('streams chunks to onChunk; a cache hit delivers its text in one chunk', async () => {
    const provider = new StubProvider(async () => answer('one two three'));
    const { caller } = setup(provider, { cache: new CallCache() });
    const chunks: string[] = [];
    const streamed = { ...opts(), stream: true, onChunk: (t: string) => chunks.push(t) };
    expect((await caller(request(), streamed)).text).toBe('one two three');
    expect(chunks).toEqual(['one', 'two', 'three']);
    chunks.length = 0;
    await caller(request(), streamed);
    expect(chunks).toEqual(['one two three']);
  });

  it('stops before a call that would exceed the budget, without calling the provider', async () => {
    const provider = new StubProvider(async () => answer('x', { inputTokens: 1000, outputTokens: 1000 }));
    const budget = new BudgetGuard({ maxCostUsd: 2.5 }, price);
    const { caller } = setup(provider, { budget });
    await caller(request('first', { maxTokens: 100 }), opts()); // spends $2
    const error = await caller(request('second', { maxTokens: 1000 }), opts()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect((error as Error).message).toMatch(/step "summarize".*spent \$2\.00 of max_cost_usd \$2\.50,/);
    expect(provider.calls).toBe(1);
  });

  it('records every call to a cassette, then replays offline and fails loudly on a miss', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'elexirion-caller-')), 'run.jsonl');
    const live = new StubProvider(async (_n, _s, r) => answer(`answer to ${r.messages[0]?.content}`));
    const recorder = new CassetteRecorder(file);
    const recording = setup(live, { cassette: { record: recorder } });
    await recording.caller(request('a'), opts());
    await recording.caller(request('b'), opts());
    recorder.close(); // the run's end (the engine closes it): the recording becomes the cassette

    const offline = new StubProvider(async () => {
      throw new Error('the network must not be used in replay');
    });
    const replaying = setup(offline, { cassette: { replay: new CassettePlayer(file) } });
    expect((await replaying.caller(request('b'), opts())).text).toBe('answer to b');
    expect((await replaying.caller(request('a'), opts())).text).toBe('answer to a');
    expect(replaying.stats[0]).toMatchObject({ replayed: true, attempts: 0, costUsd: 0 });
    const miss = await replaying.caller(request('c'), opts()).catch((e: unknown) => e);
    expect(miss).toBeInstanceOf(CassetteMissError);
    expect((miss as Error).message).toContain('step "summarize" (stub/stub-model');
    expect(offline.calls).toBe(0);
  });

  it('reports a failed call with its attempts and the error, and rethrows it', async () => {
    const provider = new StubProvider(async () => {
      throw fault('bad_request', { status: 400 });
    });
    const { caller, stats, events } = setup(provider);
    await expect(caller(request(), opts())).rejects.toMatchObject({ kind: 'bad_request' });
    expect(stats[0]).toMatchObject({ attempts: 1, retries: 0, costUsd: 0 });
    expect(stats[0]?.error?.message).toContain('bad_request fault');
    expect(events.at(-1)?.data).toMatchObject({ error: 'stub: bad_request fault' });
  });
});
