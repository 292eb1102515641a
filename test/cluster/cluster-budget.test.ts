// A run's budget holds across three real worker processes together: a batch of priced calls to the
// Anthropic fake, cut into chunks that every worker runs, stops where max_cost_usd says — not three
// times that — and the run fails with the budget's message, resumable with a larger limit.
// Needs `npm run build`.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { AnthropicFake } from '../fakes/index.js';
import { workersThatTook } from './flows.js';
import { batchPipeline, type ClusterHarness, clusterHarness, REDIS_URL, runCli } from './harness.js';

let h: ClusterHarness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const ITEMS = 60;
const MAX_TOKENS = 1000;
// claude-sonnet-4-5: $3 per million input tokens, $15 per million output tokens. Every answer uses
// all of max_tokens (the fake says so), so a call costs its worst case: 1 token in, 1000 out.
const CALL_COST = (1 * 3 + MAX_TOKENS * 15) / 1e6; // $0.015003
// The budget's worst case of a call: "item N" is 2 tokens in (characters / 4), max_tokens out.
const CALL_WORST_CASE = (2 * 3 + MAX_TOKENS * 15) / 1e6; // $0.015006
const MAX_COST = 0.1; // six calls' worst cases fit, seven do not

describe('cluster-wide budgets', () => {
  it('stops a batch spread over three workers at max_cost_usd for the whole run', async () => {
    h = await clusterHarness();
    const fake = new AnthropicFake();
    await fake.start();
    fake.latencyMs = 300; // calls overlap on every worker
    fake.setScript(() => ({ text: 'ok', usage: { input: 1, output: MAX_TOKENS } }));
    const reader = new PostgresStore(h.db);
    try {
      const env = {
        ANTHROPIC_API_KEY: 'test-key',
        ANTHROPIC_BASE_URL: fake.baseUrl,
        // Twelve chunks, six at once on three workers, each chunk one call at a time: no worker
        // can take the whole budget before the others have chunks too (on a loaded machine either).
        ELEXIRION_CLUSTER_CHUNK: '5',
      };
      for (let i = 0; i < 3; i++) await h.startWorker(env);
      const yaml = batchPipeline(ITEMS, {
        maxParallel: 1,
        step: `      type: claude\n      model: claude-sonnet-4-5\n      max_tokens: ${MAX_TOKENS}\n      prompt: "item {{ index }}"`,
      }).replace('steps:', `budget: { max_cost_usd: ${MAX_COST} }\nsteps:`);
      const file = h.write('budget.yaml', yaml);
      const run = await runCli(['run', file, '--cluster'], { ...h.env, ...env }).done;

      // The run fails with the budget's message, naming the item refused and what was spent.
      expect(run.code, run.stderr).not.toBe(0);
      expect(run.stderr).toMatch(
        /budget: step "fan\[\d+\]" stopped before calling anthropic\/claude-sonnet-4-5: spent <?\$\d+(\.\d{2,4})?.* of max_cost_usd \$0\.10,/,
      );
      const [record] = await reader.listRuns({ limit: 1 });
      expect(record?.status).toBe('failed');
      const runId = record?.id as string;

      expect((await workersThatTook(REDIS_URL, h.prefix, 'items')).size).toBeGreaterThanOrEqual(2);
      // Six calls were wanted at once (six chunks × max_parallel 1) on three workers, and more as
      // each ended; each worker alone would have let six through (eighteen in all): together, the
      // run made at most six.
      expect(fake.requests.length).toBeGreaterThanOrEqual(1);
      expect(fake.requests.length).toBeLessThanOrEqual(Math.floor(MAX_COST / CALL_WORST_CASE));
      // Every paid call is journaled — the calls in flight when the batch stopped land in the journal
      // as they finish, after the run has failed — and the journal's total is within the budget: the
      // guarantee when no call costs more than its worst case (here each costs exactly that).
      const journaled = async () => (await reader.countItems(runId, 'fan')).succeeded;
      for (let i = 0; i < 100 && (await journaled()) < fake.requests.length; i++) await sleep(100);
      expect(await journaled()).toBe(fake.requests.length);
      const spent = (await reader.itemTotals(runId)).reduce((sum, step) => sum + step.costUsd, 0);
      expect(spent).toBeCloseTo(fake.requests.length * CALL_COST, 9);
      expect(spent).toBeLessThanOrEqual(MAX_COST);
      // A refused item is not journaled (its call was never made): the resume runs it.
      expect((await reader.getItems(runId, 'fan')).filter((item) => item.status === 'failed')).toEqual([]);

      // A larger limit lets the run finish (here on one machine): items already paid for are kept.
      fake.latencyMs = 10; // the rest one at a time (max_parallel 1): quickly
      const resumed = await runCli(['resume', runId, '--max-cost', '1', '--json'], { ...h.env, ...env }).done;
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(JSON.parse(resumed.stdout).outputs.count).toBe(ITEMS);
      expect(fake.requests.length).toBe(ITEMS); // the paid items were not called again
      expect((await reader.getRun(runId))?.totals.costUsd).toBeCloseTo(ITEMS * CALL_COST, 9);
    } finally {
      await reader.close();
      await fake.stop();
    }
  }, 90_000);
});
