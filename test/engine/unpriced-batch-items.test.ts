// A batch item whose calls mix priced and unpriced ones (a priced call, then a fallback to a model
// without a price — or the other way round) has a known cost: its priced calls'. Its unpriced calls
// used to be counted only when the item's cost was NULL, so they were counted nowhere: the batch's
// `details.unpriced_calls` and the run's `totals.unpriced_calls` said the cost was the whole of it.
// Each item now keeps how many of its calls had no price, on SQLite and PostgreSQL alike.
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { currentTotals } from '../../src/engine/run-result.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { Store } from '../../src/journal/store.js';
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { dropSchema, TEST_POSTGRES_URL, uniqueSchema } from '../journal/postgres-harness.js';
import { tempDir } from './harness.js';

/**
 * `openai` on a model no price table knows: a prompt with PRICED reports a cost of its own ($0.01,
 * as a vendor's bill would), any other none; a prompt with INVALID is answered with an object that
 * fails its schema. FLAKY: invalid and unpriced until `healed`, then valid at $0.01.
 */
class MixedProvider extends MockProvider {
  healed = false;
  override async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const { costUsd: _none, ...response } = await super.generate(request, signal);
    const prompt = request.messages.map((m) => m.content).join('\n');
    const flaky = prompt.includes('FLAKY');
    const invalid = flaky ? !this.healed : prompt.includes('INVALID');
    const priced = flaky ? this.healed : prompt.includes('PRICED') && !prompt.includes('UNPRICED');
    return {
      ...response,
      ...(invalid ? { object: { n: 'x' }, text: '{"n":"x"}' } : {}),
      ...(priced ? { costUsd: 0.01 } : {}),
    };
  }
}

const schema = { type: 'object', required: ['n'], properties: { n: { type: 'number' } } };

/** A batch calling `item.first`, then (on a failure) the fallback `item.second`. */
const batch = (items: unknown[], more: Record<string, unknown> = {}, fallback = true) =>
  JSON.stringify({
    name: 'fan',
    steps: [
      {
        name: 'each',
        type: 'batch',
        items,
        step_template: {
          type: 'openai',
          model: 'unlisted-model',
          prompt: '{{ item.first }}',
          schema,
          max_repairs: 0,
          ...(fallback ? { fallback: { prompt: '{{ item.second }}' } } : {}),
        },
        ...more,
      },
    ],
  });

const pgSchemas: string[] = [];
afterAll(async () => {
  for (const s of pgSchemas) await dropSchema(s);
});

const stores: [string, () => Store][] = [
  ['sqlite', () => new SqliteStore(join(tempDir(), 'journal.db'))],
  [
    'postgres',
    () => {
      const schema = uniqueSchema('elexirion_unpriced');
      pgSchemas.push(schema);
      return new PostgresStore(TEST_POSTGRES_URL, { schema, max: 4 });
    },
  ],
];

describe.each(stores)('batch items with calls of unknown price (%s journal)', (_name, openStore) => {
  let store: Store;
  let provider: MixedProvider;
  let engine: Engine;
  const start = async (pipeline: string) => {
    store = openStore();
    provider = new MixedProvider();
    engine = new Engine({
      store,
      env: { OPENAI_API_KEY: 'sk-test-000000000000' },
      cache: false,
      gates: new GateRegistry(),
      providerFactories: { openai: () => provider } as never,
    });
    return (await engine.start(loadPipelineFromString(pipeline, 'fan.yaml'), {})).result;
  };
  afterEach(async () => {
    await engine.drain();
    await store.close();
  });

  it('counts the unpriced calls of an item whose cost is known', async () => {
    const result = await start(
      batch(
        [
          { first: 'PRICED INVALID', second: 'UNPRICED' }, // $0.01, then an unpriced fallback
          { first: 'UNPRICED INVALID', second: 'PRICED' }, // unpriced, then a $0.01 fallback
          { first: 'PRICED INVALID', second: 'UNPRICED INVALID' }, // fails: $0.01 and an unpriced call
          { first: 'PRICED', second: 'never' }, // $0.01
        ],
        { on_item_error: 'continue' },
      ),
    );
    expect(result.status, result.error).toBe('succeeded');
    const step = result.steps[0];
    expect(step?.cost_usd).toBeCloseTo(0.04, 6); // the failed item's $0.01 included
    expect(step?.details).toMatchObject({ failed: 1, calls: 7, unpriced_calls: 3 });
    expect(result.totals).toMatchObject({ unpriced_calls: 3, calls: 7 });
    expect(result.totals.cost_usd).toBeCloseTo(0.04, 6);

    const items = await store.getItems(result.run_id, 'each');
    expect(items.map((i) => [i.costUsd, i.unpricedCalls])).toEqual([
      [0.01, 1],
      [0.01, 1],
      [0.01, 1],
      [0.01, undefined],
    ]);
    // What a running or killed run reports is read from the journal's items: the same.
    const run = await store.getRun(result.run_id);
    const live = await currentTotals(store, { ...(run as NonNullable<typeof run>), finishedAt: undefined });
    expect(live).toMatchObject({ unpricedCalls: 3, calls: 7 });
    expect(live.costUsd).toBeCloseTo(0.04, 6);
  });

  it('keeps counting an unpriced call of an attempt that failed once the item runs again, priced', async () => {
    // The item fails on its one call, unpriced: the row's cost is unknown (NULL).
    const failed = await start(batch([{ first: 'FLAKY' }], {}, false));
    expect(failed.status).toBe('failed');
    expect(failed.totals).toMatchObject({ unpriced_calls: 1, calls: 1 });

    // Resumed, the item is answered at $0.01: its new row adds the failed attempt's bill, whose
    // NULL cost the known one hides — its call of unknown price must still be counted.
    provider.healed = true;
    const resumed = await (await engine.resume(failed.run_id)).result;
    expect(resumed.status, resumed.error).toBe('succeeded');
    const [again] = await store.getItems(failed.run_id, 'each');
    expect(again).toMatchObject({ status: 'succeeded', costUsd: 0.01, calls: 2, unpricedCalls: 1 });
    expect(resumed.steps[0]?.details).toMatchObject({ unpriced_calls: 1 });
    expect(resumed.totals).toMatchObject({ cost_usd: 0.01, unpriced_calls: 1, calls: 2 });
  });
});
