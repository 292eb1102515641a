// A chunk's item stopped after paid calls keeps its bill in the journal, as on one machine
// (test/engine/batch-stopped-items.test.ts): the journal's items hold every token the run's shared
// budget ledger (Redis) counted. It used to be dropped — the item was not journaled — when a budget
// refusal of another item stopped the chunk, or when the chunk was stopped from outside under
// `on_item_error: continue` or `fail` (the run's worker, which watches for a failed item to fail a
// fail-fast batch, counts a stopped row apart: countItems' `stopped`).
// The chunk runner in-process, on a SQLite journal and the machine's Redis; no test waits on a clock.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { BUDGET_REFUSED_TAG } from '../../src/cluster/item-queue.js';
import { runItemChunk } from '../../src/cluster/item-runner.js';
import { budgetKeys, SharedBudgets } from '../../src/cluster/shared-budgets.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { ItemRecord } from '../../src/journal/store.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { tempDir } from '../engine/harness.js';
import { REDIS_URL } from './harness.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A batch `fan` of mock calls that never validate (each item pays for repairs), each item answered
 * `{ n: item }` — a string, not the number the schema asks for.
 */
const pipeline = (items: string[], budgetTokens: number, more = '') => `name: fan
budget: { max_tokens: ${budgetTokens} }
steps:
  - name: fan
    type: batch
    items: ${JSON.stringify(items)}
    max_parallel: 2
${more}    step_template:
      type: mock
      prompt: "item {{ index }}"
      max_tokens: 10
      latency: 50ms
      max_repairs: 10
      schema: { type: object, required: [n], properties: { n: { type: number } } }
      response: { n: "{{ item }}" }
`;

/** A new run of `yaml` on a journal of its own, and a chunk runner of items [0, to) of it. */
async function chunkOf(yaml: string, to: number) {
  const store = new SqliteStore(join(tempDir(), 'journal.db'));
  cleanups.push(() => store.close());
  const redis = new Redis(REDIS_URL);
  const prefix = `elxtest-stopped-${randomUUID()}`;
  const budgets = new SharedBudgets(redis, prefix);
  const run = await new Engine({ store, env: {} }).create(loadPipelineFromString(yaml, 'fan.yaml'));
  const [ledger, reservations, amounts] = budgetKeys(prefix, run.id);
  cleanups.push(async () => {
    budgets.close();
    await redis.del(ledger, reservations, amounts);
    redis.disconnect();
  });
  const deps = { store, gates: new GateRegistry(new EventBus()), env: {}, budgets: budgets.factory };
  const controller = new AbortController();
  const chunk = { runId: run.id, stepKey: 'fan', generation: 0, from: 0, to, enqueuedAt: Date.now() };
  const running = runItemChunk(deps, chunk, controller.signal, () => false).then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  /** The tokens the ledger counted, once no call holds a reservation any more. */
  const ledgerTokens = async (): Promise<number> => {
    while ((await redis.zcard(reservations)) > 0) await sleep(20);
    return Number((await redis.hget(ledger, 'tokens')) ?? 0);
  };
  const journaled = async () => {
    const items = await store.getItems(run.id, 'fan');
    return { items, tokens: items.reduce((n, i) => n + i.usage.inputTokens + i.usage.outputTokens, 0) };
  };
  return { redis, ledger, controller, running, ledgerTokens, journaled, store, runId: run.id };
}

describe('a chunk’s item stopped after paid calls', () => {
  it('stopped by another item’s budget refusal: is journaled with its bill', async () => {
    // Item 0's answers are ~5,000 tokens, which its repairs send back: its second call fits in the
    // budget, its third (~10,000 tokens at worst, on ~15,000 spent) does not and is refused. Item
    // 1's calls are small: it has been answered (and paid) before item 0's second answer, and its
    // calls fit in the budget until then — it is stopped with the chunk, never refused itself.
    const c = await chunkOf(pipeline(['x'.repeat(20_000), 'z'], 18_000), 2);
    const error = await c.running;
    expect(error?.message.startsWith(`${BUDGET_REFUSED_TAG} budget: step "fan[0]" stopped before`)).toBe(true);

    const { items, tokens } = await c.journaled();
    expect(items.map((i) => i.status)).toEqual(['failed', 'failed']);
    expect(items[0]?.error).toMatch(/^budget: step "fan\[0\]" stopped before calling mock/);
    expect(items[1]?.error).toMatch(/^stopped: budget: step "fan\[0\]" stopped before calling mock/);
    expect(items[1]?.usage.inputTokens).toBeGreaterThan(0);
    expect(tokens).toBe(await c.ledgerTokens());
  });

  it('stopped with its chunk under on_item_error: continue: is journaled with its bill', async () => {
    const c = await chunkOf(pipeline(['y'], 1e9, '    on_item_error: continue\n'), 1);
    // Stopped (as a draining worker stops its chunks) once a call of the item was paid for.
    while (Number((await c.redis.hget(c.ledger, 'tokens')) ?? 0) === 0) await sleep(5);
    c.controller.abort(new Error('worker draining'));
    expect((await c.running)?.message).toBe('worker draining');

    const { items, tokens } = await c.journaled();
    expect(items).toEqual([expect.objectContaining({ status: 'failed', error: 'stopped: worker draining' })]);
    expect(tokens).toBeGreaterThan(0);
    expect(tokens).toBe(await c.ledgerTokens());
  });

  it('stopped with its chunk under on_item_error: fail: is journaled with its bill, counted stopped, not failed', async () => {
    const c = await chunkOf(pipeline(['y'], 1e9), 1);
    while (Number((await c.redis.hget(c.ledger, 'tokens')) ?? 0) === 0) await sleep(5);
    c.controller.abort(new Error('worker draining'));
    expect((await c.running)?.message).toBe('worker draining');
    const { items, tokens } = await c.journaled();
    expect(items).toEqual([expect.objectContaining({ status: 'failed', error: 'stopped: worker draining' })]);
    expect(tokens).toBe(await c.ledgerTokens());
    // What the run's worker watches to fail a fail-fast batch: no failure of the item's own.
    expect(await c.store.countItems(c.runId, 'fan')).toEqual({ succeeded: 0, failed: 0, stopped: 1 });
  });
});

describe('a chunk stopped while it reads its journaled items', () => {
  it('runs none of them', async () => {
    // The journal's answer is held (a PostgreSQL round-trip under load) until the chunk is stopped:
    // the abort event has fired by the time the chunk listens for it, and it must still see it.
    let reading: () => void = () => {};
    const read = new Promise<void>((resolve) => {
      reading = resolve;
    });
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    class HeldStore extends SqliteStore {
      override async getItems(
        runId: string,
        stepKey: string,
        range?: { from: number; to: number },
      ): Promise<ItemRecord[]> {
        reading();
        await held;
        return super.getItems(runId, stepKey, range);
      }
    }
    const store = new HeldStore(join(tempDir(), 'journal.db'));
    cleanups.push(() => store.close());
    const yaml =
      'name: fan\nsteps:\n  - { name: fan, type: batch, items: [0, 1, 2], step_template: { type: mock, prompt: "item {{ index }}" } }\n';
    const run = await new Engine({ store, env: {} }).create(loadPipelineFromString(yaml, 'fan.yaml'));
    const deps = {
      store,
      gates: new GateRegistry(new EventBus()),
      env: {},
      budgets: () => {
        throw new Error('the pipeline has no budget');
      },
    };
    const controller = new AbortController();
    const chunk = { runId: run.id, stepKey: 'fan', generation: 0, from: 0, to: 3, enqueuedAt: Date.now() };
    const running = runItemChunk(deps, chunk, controller.signal, () => false).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    await read;
    controller.abort(new Error('worker draining'));
    release();
    expect((await running)?.message).toBe('worker draining');
    // Had the chunk missed the stop, its three items (answered at once) would all be journaled.
    expect(await store.countItems(run.id, 'fan')).toEqual({ succeeded: 0, failed: 0, stopped: 0 });
  });
});
