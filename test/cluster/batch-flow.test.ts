// A batch spread over the cluster is a BullMQ flow, and its failures travel through the flow: a
// chunk that fails all its attempts fails the parent job, and with it the run, at once and with the
// chunk's reason; a resume starts a new flow (generation) for the items without a result; an item
// that fails under `on_item_error: fail` gives the flow up, and its chunks stop early. Real worker
// processes on the machine's Redis and PostgreSQL; needs `npm run build`.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterRuns } from '../../src/cluster/remote-runs.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { endedFlowOf, flowOf } from './flows.js';
import { batchPipeline, type ClusterHarness, callsPerItem, clusterHarness, REDIS_URL, runCli } from './harness.js';

let h: ClusterHarness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

/** The id of the only run, once the journal has `n` of its batch's items as succeeded. */
async function runWithItems(reader: PostgresStore, n: number): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const [run] = await reader.listRuns({ limit: 1 });
    if (run && (await reader.countItems(run.id, 'fan')).succeeded >= n) return run.id;
    await sleep(25);
  }
  throw new Error('the batch never got going');
}

function runIdOf(stderr: string): string {
  const id = /running cluster-batch \(run ([^,]+),/.exec(stderr)?.[1];
  if (!id) throw new Error(`no run id in: ${stderr}`);
  return id;
}

describe('a batch as a BullMQ flow', () => {
  it('a chunk that fails every attempt fails the run at once, with its reason; a resume runs the rest in a new flow', async () => {
    h = await clusterHarness();
    await h.startWorker({}, ['--concurrency', '1']); // one chunk at a time
    const total = 300; // 12 chunks of 25
    const { done } = runCli(
      ['run', h.write('gone.yaml', batchPipeline(total, { latency: '100ms' })), '--cluster'],
      h.env,
    );
    const reader = new PostgresStore(h.db);
    try {
      // Under the running batch, the journal's pipeline loses the step: every chunk that starts
      // from now on throws before its first item ("run … has no step fan"), on every attempt.
      const runId = await runWithItems(reader, 1);
      const original = (await reader.getRun(runId))?.pipeline;
      const renamed = JSON.parse(
        JSON.stringify(original).replaceAll('"fan"', '"fan_gone"').replaceAll('steps.fan.', 'steps.fan_gone.'),
      );
      await reader.updateRun(runId, { pipeline: renamed });
      const t0 = Date.now();
      const run = await done;
      // Three attempts and their back-off (0.5 s, 1 s), not the other chunks' turn nor a timeout.
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(run.code, run.stderr).toBe(1);
      const reason = /the chunk of items \d+–\d+ failed on the cluster after 3 attempt\(s\): run \S+ has no step fan/;
      expect(`${run.stdout}${run.stderr}`).toMatch(reason);
      const failed = await reader.getRun(runId);
      expect(failed?.status).toBe('failed');
      expect(failed?.error).toMatch(reason);
      expect((await reader.countItems(runId, 'fan')).succeeded).toBeLessThan(total);

      // BullMQ's record: the parent failed through its child, which failed with the reason.
      const first = await endedFlowOf(REDIS_URL, h.prefix, runId, 'fan', 0);
      expect(first?.state).toBe('failed');
      const culprit = /^child (\S+) failed$/.exec(first?.failedReason ?? '')?.[1];
      expect(first?.failed).toContain(culprit);
      const gaveUp = first?.chunks.find((c) => `${h?.prefix}:items:${c.id}` === culprit);
      expect(gaveUp?.state).toBe('failed');
      expect(gaveUp?.failedReason).toMatch(/has no step fan/);

      // The step is back; resumed (as `POST /runs/:id/resume` does), the run gets a new flow whose
      // chunks run the items without a result — spread over the workers started meanwhile.
      await reader.updateRun(runId, { pipeline: original });
      await h.startWorker();
      await h.startWorker();
      const runs = new ClusterRuns({ redisUrl: REDIS_URL, prefix: h.prefix }, reader);
      try {
        await runs.resume(runId);
      } finally {
        await runs.close();
      }
      for (let i = 0; i < 300 && (await reader.getRun(runId))?.status !== 'succeeded'; i++) await sleep(100);
      expect((await reader.getRun(runId))?.status).toBe('succeeded');
      const second = await flowOf(REDIS_URL, h.prefix, runId, 'fan', 1);
      expect(second?.state).toBe('completed');
      expect(second?.chunks.map((c) => c.id)).toEqual(
        Array.from({ length: 12 }, (_, i) => `${runId}|fan|g1|${i * 25}`),
      );
      expect((await flowOf(REDIS_URL, h.prefix, runId, 'fan', 0))?.state).toBe('failed');
      expect(await flowOf(REDIS_URL, h.prefix, runId, 'fan', 2)).toBeUndefined();
    } finally {
      await reader.close();
    }
    // Every item was answered once: the failed chunks ran none, the new flow skipped the finished.
    const counts = callsPerItem(readFileSync(h.callLog, 'utf8'));
    expect(counts.size).toBe(total);
    expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  }, 90_000);

  it('the batch step’s own timeout gives the flow up: its chunks stop instead of running on', async () => {
    h = await clusterHarness();
    await h.startWorker({}, ['--concurrency', '1']);
    await h.startWorker({}, ['--concurrency', '1']);
    const total = 300; // 12 chunks × 25 items × 100 ms, 5 at a time per chunk: ~3 s on two workers
    const yaml = batchPipeline(total, { latency: '100ms' }).replace(
      '    max_parallel: 5',
      '    max_parallel: 5\n    timeout: 1s',
    );
    const { done } = runCli(['run', h.write('slow.yaml', yaml), '--cluster'], h.env);
    const run = await done;
    expect(run.code, run.stderr).toBe(1);
    expect(`${run.stdout}${run.stderr}`).toMatch(/timed out/i);

    const runId = runIdOf(run.stderr);
    const flow = await endedFlowOf(REDIS_URL, h.prefix, runId, 'fan', 0);
    expect(flow?.state).toBe('completed');
    const reader = new PostgresStore(h.db);
    try {
      // Left to run on, the chunks would have answered all 300 items.
      expect((await reader.countItems(runId, 'fan')).succeeded).toBeLessThan(total * 0.75);
    } finally {
      await reader.close();
    }
  }, 60_000);

  it('on_item_error: fail gives the flow up at the first failed item: its chunks stop early', async () => {
    h = await clusterHarness();
    await h.startWorker();
    await h.startWorker();
    const total = 600;
    const step = [
      '      type: mock',
      '      prompt: "item {{ index }}"',
      '      latency: 200ms',
      '      fail_first: 1',
      '      retry: { max_attempts: 1 }',
    ].join('\n');
    // Every item fails after its latency (no breaker opening to make them fail at once).
    const yaml = batchPipeline(total, { step }).replace(
      'steps:',
      'providers:\n  mock: { circuit_breaker: { failure_threshold: 100000 } }\nsteps:',
    );
    const { done } = runCli(['run', h.write('fail.yaml', yaml), '--cluster'], h.env);
    const run = await done;
    expect(run.code, run.stderr).toBe(1);
    expect(`${run.stdout}${run.stderr}`).toMatch(/item \d+ of 600 failed: .*mock failure 1 of 1/);

    // The flow still ends: the chunks in flight stop after their current items, and those that
    // start after the first failure end without a call — far short of running every item.
    const runId = runIdOf(run.stderr);
    const flow = await endedFlowOf(REDIS_URL, h.prefix, runId, 'fan', 0);
    expect(flow?.state).toBe('completed');
    expect(flow?.chunks).toHaveLength(24);
    expect(flow?.chunks.filter((c) => c.returnvalue?.calls === 0).length).toBeGreaterThan(0);
    const reader = new PostgresStore(h.db);
    try {
      const counts = await reader.countItems(runId, 'fan');
      expect(counts.succeeded).toBe(0);
      expect(counts.failed).toBeGreaterThan(0);
      expect(counts.failed).toBeLessThan(total / 2);
    } finally {
      await reader.close();
    }
  }, 60_000);
});
