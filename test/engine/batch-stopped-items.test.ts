// Money spent by a batch's items is never forgotten nor counted twice, however the batch stops: the
// run's totals (read from the journal's step and item rows) equal what the vendor billed.
// - An item stopped with its batch (the run interrupted, the batch's timeout, the budget's refusal of
//   another item) after paid calls is journaled failed (`stopped: …`) with their bill — it used to be
//   dropped (interrupted: the totals said $0 and the resume's budget started from $0) or to ride on
//   the batch's failed row (gone from the totals once the batch succeeded on a resume).
// - The budget's refusal of an item fails the batch with an error of the batch's own: the refused
//   item's bill (on its row) was counted a second time on the batch's row.
// - A failed call answered from the cache counts (and saved) in a batch item as in a plain step.
// - A batch row written by an Elexirion before this, carrying its stopped items' bills, keeps them in
//   the totals when the batch succeeds on a resume.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import type { RunResult } from '../../src/engine/run-result.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { priceCall } from '../../src/pricing/index.js';
import {
  type ModelRequest,
  type ModelResponse,
  type Provider,
  type StreamChunk,
  VENDOR_CAPABILITIES,
} from '../../src/providers/provider.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { PaidModel } from './paid-model.js';

type Answer = Partial<ModelResponse> | Error | 'hang';

/**
 * A vendor priced by the real price table (its answers carry usage, no cost): `script` decides each
 * answer from the request and how many answers the item (its first message) has had; 'hang' waits
 * for the call's signal, as a request in flight does. `answered` is what it billed.
 */
class Vendor implements Provider {
  readonly name = 'openai';
  readonly answered: ModelResponse[] = [];
  private readonly perItem = new Map<string, number>();
  constructor(public script: (request: ModelRequest, itemAnswers: number) => Answer) {}
  capabilities() {
    return VENDOR_CAPABILITIES;
  }
  supports() {
    return true;
  }
  async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const item = request.messages[0]?.content ?? '';
    const answer = this.script(request, this.perItem.get(item) ?? 0);
    try {
      await sleep(answer === 'hang' ? 2 ** 30 : 1, undefined, { signal });
    } catch {
      throw new ProviderError(this.name, 'aborted', 'aborted');
    }
    if (answer instanceof Error) throw answer;
    const response: ModelResponse = {
      text: 'ok',
      toolCalls: [],
      // Never more than the call's worst case (input estimated from its characters, max_tokens
      // out): a budget then holds exactly.
      usage: { inputTokens: 10, outputTokens: 1000 },
      finishReason: 'stop',
      model: request.model,
      ...(answer as Partial<ModelResponse>),
    };
    this.answered.push(response);
    this.perItem.set(item, (this.perItem.get(item) ?? 0) + 1);
    return response;
  }
  async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    const response = await this.generate(request, signal);
    yield { type: 'text', text: response.text };
    yield { type: 'done', response };
  }
  /** How many answers the item whose prompt is `item` has had. */
  answersTo(item: string): number {
    return this.perItem.get(item) ?? 0;
  }
  /** What the vendor billed, at the price table's prices. */
  billed(): number {
    return this.answered.reduce((sum, r) => sum + (priceCall('openai', r.model, r.usage) ?? Number.NaN), 0);
  }
}

const INVALID = { text: '{"n":"x"}', object: { n: 'x' } };
const VALID = { text: '{"n":1}', object: { n: 1 } };
const TOOL_TURN: Partial<ModelResponse> = {
  text: '',
  toolCalls: [{ id: 'read-1', name: 'read_file', arguments: { path: 'p.yaml' } }],
  finishReason: 'tool_calls',
};
const schema = { type: 'object', required: ['n'], properties: { n: { type: 'number' } } };

/** A batch of two items whose calls are structured: an invalid answer is repaired (and paid) again. */
const repairingBatch = (more: Record<string, unknown> = {}, template: Record<string, unknown> = {}) => ({
  name: 'each',
  type: 'batch',
  items: ['a', 'b'],
  max_parallel: 2,
  step_template: {
    type: 'openai',
    model: 'gpt-4o-mini',
    max_tokens: 1000,
    prompt: '{{ item }}',
    max_repairs: 10,
    schema,
    ...template,
  },
  ...more,
});

let dir: string;
let store: SqliteStore;
let engine: Engine;

function setUp(vendor: Provider | (() => Provider), options: { cache?: boolean; mock?: boolean } = {}) {
  dir = mkdtempSync(join(tmpdir(), 'elexirion-stopped-items-'));
  store = new SqliteStore(join(dir, 'journal.db'));
  const factory = typeof vendor === 'function' ? vendor : () => vendor;
  engine = new Engine({
    store,
    env: { OPENAI_API_KEY: 'k' },
    ...(options.cache ? {} : { cache: false as const }),
    gates: new GateRegistry(undefined, {}),
    providerFactories: options.mock ? { mock: factory } : { openai: factory },
  });
}

afterEach(async () => {
  await engine.drain();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(pipeline: unknown): Promise<{ runId: string; result: Promise<RunResult> }> {
  const file = join(dir, 'p.yaml');
  writeFileSync(file, JSON.stringify(pipeline));
  return engine.start(await loadPipeline(file));
}

const until = async (condition: () => boolean) => {
  while (!condition()) await sleep(2);
};

const itemsCost = async (runId: string) =>
  (await store.getItems(runId, 'each')).reduce((sum, item) => sum + (item.costUsd ?? 0), 0);

describe('a batch item stopped with its batch after paid calls', () => {
  it('interrupted: is journaled with its bill, and the resume’s budget starts from it', async () => {
    const vendor = new Vendor(() => INVALID); // never valid: each item keeps paying for repairs
    setUp(vendor);
    const limit = 0.006; // about ten calls ($0.0006 each)
    const handle = await start({ name: 'fan', budget: { max_cost_usd: limit }, steps: [repairingBatch()] });
    await until(() => vendor.answersTo('a') >= 2 && vendor.answersTo('b') >= 2);
    engine.stop(handle.runId, 'interrupted');
    const first = await handle.result;
    expect(first.status).toBe('interrupted');
    const paidAtStop = vendor.billed();
    expect(paidAtStop).toBeLessThan(limit);

    const items = await store.getItems(first.run_id, 'each');
    expect(items).toHaveLength(2);
    for (const item of items) {
      expect(item).toMatchObject({ status: 'failed', error: 'stopped: the run was interrupted' });
      expect(item.costUsd).toBeGreaterThan(0);
    }
    expect(first.totals.cost_usd).toBeCloseTo(paidAtStop, 6);
    expect(first.totals.calls).toBeGreaterThanOrEqual(vendor.answered.length);

    // The resume runs both items again (their rows carry the first bill on) until the budget —
    // which counts what the first attempt spent — refuses a call.
    const second = await (await engine.resume(first.run_id)).result;
    expect(second.status).toBe('failed');
    expect(second.error).toMatch(/max_cost_usd/);
    expect(vendor.billed()).toBeGreaterThan(paidAtStop);
    expect(vendor.billed()).toBeLessThanOrEqual(limit + 1e-12);
    // Totals are rounded to the micro-dollar: within half a micro-dollar of the bill.
    expect(second.totals.cost_usd).toBeCloseTo(vendor.billed(), 5);
    expect(await itemsCost(first.run_id)).toBeCloseTo(vendor.billed(), 9);
  });

  it('stopped by its batch’s timeout: its bill stays in the totals when the batch succeeds on a resume', async () => {
    let valid = false;
    // Until `valid`: each item is answered (invalid) twice, then its repair hangs until the timeout.
    const vendor = new Vendor((_request, itemAnswers) => (valid ? VALID : itemAnswers < 2 ? INVALID : 'hang'));
    setUp(vendor);
    const handle = await start({ name: 'fan', steps: [repairingBatch({ timeout: '2s' })] });
    const first = await handle.result;
    expect(first.status).toBe('failed');
    expect(first.error).toMatch(/timed out/);
    expect(vendor.answered).toHaveLength(4);
    const batch = first.steps.find((s) => s.key === 'each');
    // The batch's failed row carries none of its items' bills: those are on the items' rows.
    expect(batch).toMatchObject({ status: 'failed', cost_usd: 0 });
    expect(batch?.details).toMatchObject({ items_run: 2, items_counted: 0, calls: 0 });
    for (const item of await store.getItems(first.run_id, 'each')) {
      expect(item).toMatchObject({ status: 'failed', calls: 3, error: 'stopped: step "each" timed out after 2000 ms' });
    }
    expect(first.totals.cost_usd).toBeCloseTo(vendor.billed(), 6);

    valid = true;
    const second = await (await engine.resume(first.run_id)).result;
    expect(second.status).toBe('succeeded');
    expect(vendor.answered).toHaveLength(6);
    expect(second.totals.cost_usd).toBeCloseTo(vendor.billed(), 6);
    // The items' rows: each its first attempt's 3 calls (2 answered, 1 cut off) and the resume's one.
    for (const item of await store.getItems(first.run_id, 'each')) {
      expect(item).toMatchObject({ status: 'succeeded', calls: 4 });
    }
    expect(second.totals.calls).toBe(8);
  });
});

describe('a batch stopped by the budget', () => {
  it('counts the refused item’s bill once, and the run fails (no on_error absorbs it)', async () => {
    const vendor = new Vendor(() => INVALID);
    setUp(vendor);
    const handle = await start({
      name: 'fan',
      budget: { max_cost_usd: 0.003 },
      steps: [repairingBatch({ on_item_error: 'continue', on_error: 'continue' })],
    });
    const result = await handle.result;
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/budget: step "each\[[01]\]" stopped before calling openai\/gpt-4o-mini/);
    const batch = result.steps.find((s) => s.key === 'each');
    expect(batch).toMatchObject({ status: 'failed', cost_usd: 0, usage: { input_tokens: 0, output_tokens: 0 } });
    expect(batch?.details?.continued).toBeUndefined();

    const items = await store.getItems(result.run_id, 'each');
    expect(items.map((i) => i.status)).toEqual(['failed', 'failed']);
    // One refused; the other refused too, or stopped with its batch: both keep their bills.
    expect(items.some((i) => /^budget: /.test(i.error ?? ''))).toBe(true);
    expect(await itemsCost(result.run_id)).toBeCloseTo(vendor.billed(), 9);
    expect(result.totals.cost_usd).toBeCloseTo(vendor.billed(), 6);
    expect(vendor.billed()).toBeLessThanOrEqual(0.003 + 1e-12);
  });
});

describe('cache hits of a batch item', () => {
  // The first call is answered with a tool call (an answer, cached); the next turn is refused (not
  // retried). (An invalid structured answer would not do: the cache never keeps one.)
  const script = (request: ModelRequest): Answer =>
    request.messages.length > 1
      ? new ProviderError('openai', 'bad_request', 'refused')
      : request.messages[0]?.content === 'fine'
        ? VALID
        : TOOL_TURN;
  const call = {
    type: 'openai',
    model: 'gpt-4o',
    max_tokens: 100,
    prompt: 'p',
    max_repairs: 1,
    schema,
    tools: ['read_file'],
  };

  /** Runs `steps` twice (the second run answered from the cache the first filled). */
  async function twice(steps: unknown[]): Promise<RunResult> {
    const pipeline = { name: 'cachey', steps };
    await (await start(pipeline)).result;
    return (await start(pipeline)).result;
  }

  it('that fails count with its batch’s, as a plain step’s', async () => {
    setUp(new Vendor(script), { cache: true });
    const result = await twice([
      { name: 'plain', ...call, on_error: 'continue' },
      { name: 'each', type: 'batch', items: [1], on_item_error: 'continue', step_template: call },
    ]);
    const plain = result.steps.find((s) => s.key === 'plain')?.details ?? {};
    const batch = result.steps.find((s) => s.key === 'each')?.details ?? {};
    expect(plain.cache_hits).toBe(1);
    expect(Number(plain.cost_saved_usd)).toBeGreaterThan(0);
    expect(batch).toMatchObject({ failed: 1, cache_hits: 1 });
    expect(batch.cost_saved_usd).toBeCloseTo(Number(plain.cost_saved_usd), 9);
    expect(result.totals.cache_hits).toBe(2);
    expect(result.totals.cost_saved_usd).toBeCloseTo(2 * Number(plain.cost_saved_usd), 6);
  });

  it('that succeeds through its fallback count the failed call’s hit too', async () => {
    setUp(new Vendor(script), { cache: true });
    const withFallback = { ...call, max_repairs: 0, fallback: { prompt: 'fine' } };
    const result = await twice([
      { name: 'plain', ...withFallback },
      { name: 'each', type: 'batch', items: [1], step_template: withFallback },
    ]);
    const plain = result.steps.find((s) => s.key === 'plain')?.details ?? {};
    const batch = result.steps.find((s) => s.key === 'each')?.details ?? {};
    // Both calls (the tool turn, the fallback) answered from the cache.
    expect(plain.cache_hits).toBe(2);
    expect(batch).toMatchObject({ succeeded: 1, cache_hits: 2 });
    expect(batch.cost_saved_usd).toBeCloseTo(Number(plain.cost_saved_usd), 9);
  });

  it('that fails its batch (on_item_error: fail) count in the batch’s failed row', async () => {
    setUp(new Vendor(script), { cache: true });
    const result = await twice([{ name: 'each', type: 'batch', items: [1], step_template: call }]);
    expect(result.status).toBe('failed');
    const batch = result.steps.find((s) => s.key === 'each');
    expect(batch?.status).toBe('failed');
    expect(batch?.details).toMatchObject({ cache_hits: 1 });
    expect(Number(batch?.details?.cost_saved_usd)).toBeGreaterThan(0);
    expect(result.totals.cache_hits).toBe(1);
  });
});

describe('a failed batch row carrying its stopped items’ bills (written before they had rows)', () => {
  it('keeps them in the totals when the batch succeeds on a resume', async () => {
    class Flaky extends PaidModel {
      broken = true;
      override async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
        if (this.broken) throw new ProviderError('mock', 'bad_request', 'refused');
        return super.generate(request, signal);
      }
    }
    const model = new Flaky();
    setUp(model, { mock: true });
    const pipeline = {
      name: 'old',
      steps: [{ name: 'each', type: 'batch', items: [1, 2], step_template: { type: 'mock', prompt: 'p {{ item }}' } }],
    };
    const first = await (await start(pipeline)).result;
    expect(first.status).toBe('failed');
    // As an older Elexirion wrote it: the bill of items stopped with the batch on its failed row.
    const [row] = await store.getSteps(first.run_id);
    expect(row?.key).toBe('each');
    if (!row) return;
    const legacy = { usage: { inputTokens: 300, outputTokens: 40 }, costUsd: 0.5 };
    await store.commitStep({ ...row, ...legacy, details: { ...row.details, calls: 2 } });
    model.broken = false;
    const second = await (await engine.resume(first.run_id)).result;
    expect(second.status).toBe('succeeded');
    const paid = model.paid * 0.01;
    expect(second.totals.cost_usd).toBeCloseTo(legacy.costUsd + paid, 6);
    const items = await store.getItems(first.run_id, 'each');
    const itemTokens = items.reduce((n, i) => n + i.usage.inputTokens, 0);
    expect(second.totals.input_tokens).toBe(legacy.usage.inputTokens + itemTokens);
  });
});
