// A chunk delivery whose item's answer was refused (the call loop rejects it: never cached), paid
// for, and that died before journaling the item, leaves that answer's bill under its call's key,
// marked as paid by its execution. The next delivery runs the item again: the same call finds the
// bill — the item's, counted in its row — and asks the provider again (a refusal is never served).
// The chunk runner alone, on either journal: no Redis needed (the cluster's budget ledger counted the
// answer when it was paid).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runItemChunk } from '../../src/cluster/item-runner.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { Store } from '../../src/journal/store.js';
import { priceCall } from '../../src/pricing/index.js';
import { closePools } from '../../src/resilience/connection-pool.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { flakyJournal } from '../engine/flaky-journal.js';
import { tempDir } from '../engine/harness.js';
import { OpenAIFake } from '../fakes/index.js';
import { dropSchema, TEST_POSTGRES_URL, uniqueSchema } from '../journal/postgres-harness.js';

const yaml = `name: fan
steps:
  - name: fan
    type: batch
    items: [a]
    step_template:
      type: openai
      model: gpt-4o
      prompt: "item {{ item }}"
      schema: { type: object, required: [n], properties: { n: { type: number } } }
`;

const USAGE = { input: 100, output: 10 };
const ANSWER_COST = priceCall('openai', 'gpt-4o', { inputTokens: USAGE.input, outputTokens: USAGE.output }) as number;

const openai = new OpenAIFake();
let env: Record<string, string>;
const schemas: string[] = [];
beforeAll(async () => {
  env = { OPENAI_BASE_URL: `${await openai.start()}/v1`, OPENAI_API_KEY: 'fake-openai-key' };
});
afterAll(async () => {
  await openai.stop();
  await closePools();
  for (const schema of schemas) await dropSchema(schema);
});

const journals: Array<[string, () => Store]> = [
  ['SQLite', () => new SqliteStore(join(tempDir(), 'journal.db'))],
  [
    'PostgreSQL',
    () => {
      const schema = uniqueSchema('elexirion_chunk_bills');
      schemas.push(schema);
      return new PostgresStore(TEST_POSTGRES_URL, { schema });
    },
  ],
];

describe.each(journals)('a chunk delivered again after a refused answer was paid (%s)', (_name, open) => {
  it('counts the refusal’s bill in the item’s row, once, and asks the provider again', async () => {
    openai.reset();
    const journal = open();
    try {
      const run = await new Engine({ store: journal, env }).create(loadPipelineFromString(yaml, 'fan.yaml'));
      const deps = (over: Store = journal) => ({
        store: over,
        gates: new GateRegistry(new EventBus()),
        env,
        budgets: () => {
          throw new Error('the pipeline has no budget');
        },
      });
      const chunk = { runId: run.id, stepKey: 'fan', generation: 0, from: 0, to: 1, enqueuedAt: Date.now() };
      openai.queueAnswers({ refusal: 'I cannot', usage: USAGE }, { json: { n: 1 }, usage: USAGE });
      // The first delivery: the item refused (paid), its failed row never written.
      const first = runItemChunk(
        deps(flakyJournal(journal, 'commitItems', 1)),
        chunk,
        new AbortController().signal,
        () => false,
      );
      await expect(first).rejects.toThrow(/simulated/);
      expect(await journal.getItems(run.id, 'fan')).toEqual([]);

      await runItemChunk(deps(), chunk, new AbortController().signal, () => false);
      const [item] = await journal.getItems(run.id, 'fan');
      expect(openai.requests).toHaveLength(2); // asked again: a refusal is never an answer
      expect(item).toMatchObject({ status: 'succeeded', output: { n: 1 }, calls: 2 });
      expect(item?.costUsd).toBeCloseTo(2 * ANSWER_COST, 12);
    } finally {
      await journal.close();
    }
  });
});
