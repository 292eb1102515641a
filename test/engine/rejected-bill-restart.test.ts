// A step whose answer the call loop rejects (a refusal), paid for, and a journal write that fails
// before the step's record is committed: the run crashes and its supervisor restarts it in the same
// process. The restarted step makes the same call, finds the refusal's bill kept under its key (the
// answer itself is never served: the provider is asked again) and counts it as paid — in its record,
// the run's totals and its budget, once. When the failed record did reach the journal, it carries
// the bill, and the restarted step counts it no more. On both journals.
import { afterAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { Store } from '../../src/journal/store.js';
import { dropSchema, TEST_POSTGRES_URL, uniqueSchema } from '../journal/postgres-harness.js';
import { flakyJournal } from './flaky-journal.js';
import { newEngine, pipelineFile, step, tempDir } from './harness.js';
import { ENV, PIPELINE, scriptedProvider, type Turn } from './rejected-bill-provider.js';

// A journal of its own for each test: the call cache of one would answer the next.
const schemas: string[] = [];
afterAll(async () => {
  for (const schema of schemas) await dropSchema(schema);
});

const journals: Array<[string, () => Store]> = [
  ['SQLite', () => new SqliteStore(`${tempDir()}/j.db`)],
  [
    'PostgreSQL',
    () => {
      const schema = uniqueSchema('elexirion_bills');
      schemas.push(schema);
      return new PostgresStore(TEST_POSTGRES_URL, { schema });
    },
  ],
];

function setup(store: Store, script: Turn[], crashes: number): { engine: Engine; calls: () => number } {
  const provider = scriptedProvider(script);
  const engine = newEngine({
    // The first step commit fails `crashes` times: a's failed record, after its refusal was paid.
    store: crashes > 0 ? flakyJournal(store, 'commitStep', crashes) : store,
    env: ENV,
    restartIntensity: { backoffMs: 1 },
    providerFactories: { openai: () => provider } as never,
  });
  return { engine, calls: () => provider.calls };
}

describe.each(journals)('a refusal paid before a crash (%s)', (_name, open) => {
  it('is counted once by the restarted step, which asks the provider again', async () => {
    const store = open();
    const onWarning = () => {};
    process.on('warning', onWarning);
    try {
      const { engine, calls } = setup(store, ['refuse', 'valid', 'valid'], 1);
      const { load } = pipelineFile(PIPELINE);
      const first = await (await engine.start(load())).result;
      // a was refused ($0.01), crashed, asked again ($0.01): $0.02 spent, and b no longer fits.
      expect(calls()).toBe(2);
      expect(first.status).toBe('failed');
      expect(first.failed_step).toBe('b');
      expect(first.error).toMatch(/spent \$0\.02 of max_cost_usd/);
      expect(step(first, 'a')).toMatchObject({ status: 'succeeded', cost_usd: 0.02 });
      expect(first.totals).toMatchObject({ cost_usd: 0.02, calls: 2, cache_hits: 0, cost_saved_usd: 0 });

      // A resume reads it from a's record: once.
      const done = await (await engine.resume(first.run_id, { maxCostUsd: 0.05 })).result;
      expect(calls()).toBe(3);
      expect(done.status).toBe('succeeded');
      expect(done.totals).toMatchObject({ cost_usd: 0.03, calls: 3, cache_hits: 0 });
    } finally {
      process.off('warning', onWarning);
      await store.close();
    }
  });

  it('is not counted again when the step’s failed record carries it', async () => {
    const store = open();
    try {
      const { engine, calls } = setup(store, ['refuse', 'valid', 'valid'], 0);
      const { load } = pipelineFile(PIPELINE);
      const first = await (await engine.start(load())).result;
      expect(first.status).toBe('failed');
      expect(first.failed_step).toBe('a');
      expect(first.totals).toMatchObject({ cost_usd: 0.01, calls: 1 });

      // The resumed a finds the refusal's bill under its call, billed already by its failed record.
      const done = await (await engine.resume(first.run_id, { maxCostUsd: 0.05 })).result;
      expect(calls()).toBe(3);
      expect(done.status).toBe('succeeded');
      expect(step(done, 'a')).toMatchObject({ cost_usd: 0.02 });
      expect(done.totals).toMatchObject({ cost_usd: 0.03, calls: 3, cache_hits: 0 });
    } finally {
      await store.close();
    }
  });
});
