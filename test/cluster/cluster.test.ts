// Cluster mode with real processes: three `elexirion worker` processes on the machine's Redis and
// PostgreSQL, runs submitted with `elexirion run --cluster`. Needs `npm run build` first.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { AnthropicFake } from '../fakes/index.js';
import { endedFlowOf, flowOf, workersThatTook } from './flows.js';
import { batchPipeline, type ClusterHarness, callsPerItem, clusterHarness, REDIS_URL, runCli } from './harness.js';

let h: ClusterHarness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

describe('cluster mode', () => {
  it('spreads one run’s batch over three workers and prints it as a local run', async () => {
    h = await clusterHarness();
    for (let i = 0; i < 3; i++) await h.startWorker();
    const file = h.write('batch.yaml', batchPipeline(300, { latency: '20ms' }));

    const status = runCli(['cluster', 'status', '--json'], h.env);
    const seen = JSON.parse((await status.done).stdout);
    expect(seen.workers).toHaveLength(3);

    const { done } = runCli(['run', file, '--cluster'], h.env);
    const run = await done;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/cluster-batch succeeded/);
    expect(run.stdout).toMatch(/count: 300/);
    expect(run.stdout).toMatch(/totals: 301 call\(s\)/);
    expect(run.stderr).toMatch(/running cluster-batch \(run \w+, 2 steps\)/);
    expect(run.stderr).toMatch(/✓ fan/);

    const after = JSON.parse((await runCli(['cluster', 'status', '--json'], h.env).done).stdout);
    expect(after.queues.batches).toMatchObject({ completed: 1, waitingChildren: 0 });
    expect(after.queues.items.completed).toBe(12);

    const takers = await workersThatTook(REDIS_URL, h.prefix, 'items');
    expect(takers.size).toBe(3);
    const counts = callsPerItem(readFileSync(h.callLog, 'utf8'));
    expect(counts.size).toBe(300);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    // The batch was one BullMQ flow: a completed parent on `batches` whose children are the twelve
    // chunks of 25 items on `items`, and whose return value adds up theirs.
    const runId = /running cluster-batch \(run ([^,]+),/.exec(run.stderr)?.[1] as string;
    const flow = await endedFlowOf(REDIS_URL, h.prefix, runId, 'fan', 0);
    expect(flow?.state).toBe('completed');
    expect(Object.keys(flow?.processed ?? {})).toHaveLength(12);
    expect(flow?.unprocessed).toEqual([]);
    expect(flow?.chunks.map((c) => [c.id, c.state, c.to - c.from])).toEqual(
      Array.from({ length: 12 }, (_, i) => [`${runId}|fan|g0|${i * 25}`, 'completed', 25]),
    );
    // What each delivery of a chunk called: a chunk delivered again under load (its lock lapsed)
    // reports only what its second delivery called — the run's totals (301, above) come from the
    // journaled items, not from these.
    const chunkCalls = flow?.chunks.reduce((sum, c) => sum + (c.returnvalue?.calls ?? 0), 0);
    expect(flow?.returnvalue?.calls).toBe(chunkCalls);
    expect(chunkCalls).toBeLessThanOrEqual(300);
    expect(await flowOf(REDIS_URL, h.prefix, runId, 'fan', 1)).toBeUndefined(); // one flow, once
  }, 60_000);

  it('runs a large batch inside a parallel group on the run’s own worker (its chunks could not find it)', async () => {
    h = await clusterHarness();
    await h.startWorker();
    const items = JSON.stringify(Array.from({ length: 60 }, (_, i) => i)); // more than one chunk of 25
    const yaml = [
      'name: nested-batch',
      'steps:',
      '  - name: both',
      '    type: parallel',
      '    steps:',
      '      - name: fan',
      '        type: batch',
      `        items: ${items}`,
      '        max_parallel: 10',
      '        step_template:',
      '          type: mock',
      '          prompt: "item {{ index }}"',
      '      - name: side',
      '        type: mock',
      '        prompt: "side"',
      'outputs:',
      '  count: "{{ steps.both.output.fan | size }}"',
      '',
    ].join('\n');
    const run = await runCli(['run', h.write('nested.yaml', yaml), '--cluster'], h.env).done;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/count: 60/);
    const after = JSON.parse((await runCli(['cluster', 'status', '--json'], h.env).done).stdout);
    expect(after.queues.items.completed ?? 0).toBe(0); // no chunk went to the queue
    const counts = callsPerItem(readFileSync(h.callLog, 'utf8'));
    expect(counts.size).toBe(60);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 60_000);

  it('holds a provider’s max_concurrency across every worker together', async () => {
    h = await clusterHarness();
    const fake = new AnthropicFake();
    await fake.start();
    fake.latencyMs = 60;
    try {
      const keys = { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: fake.baseUrl };
      for (let i = 0; i < 3; i++) await h.startWorker(keys);
      const yaml = batchPipeline(90, {
        maxParallel: 5,
        step: '      type: claude\n      model: claude-sonnet-4-5\n      prompt: "item {{ index }}"',
      }).replace('steps:', 'providers:\n  anthropic: { max_concurrency: 3 }\nsteps:');
      const { done } = runCli(['run', h.write('cap.yaml', yaml), '--cluster', '--json'], h.env);
      const run = await done;
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).outputs.count).toBe(90);
      expect(fake.requests.length).toBeGreaterThanOrEqual(90);
      // Three workers × five items in parallel would be fifteen; the shared gate allows three.
      expect(fake.peakInFlight).toBeLessThanOrEqual(3);
      expect(fake.peakInFlight).toBeGreaterThanOrEqual(2);
      expect((await workersThatTook(REDIS_URL, h.prefix, 'items')).size).toBeGreaterThanOrEqual(2);
    } finally {
      await fake.stop();
    }
  }, 60_000);

  it('recovers a run whose worker is killed mid-batch, without repeating finished items', async () => {
    h = await clusterHarness();
    for (let i = 0; i < 3; i++) await h.startWorker();
    const total = 200;
    const { done } = runCli(
      ['run', h.write('kill.yaml', batchPipeline(total, { latency: '50ms' })), '--cluster'],
      h.env,
    );

    // Kill the worker that holds the run, once a good part of the batch is journaled.
    const reader = new PostgresStore(h.db);
    let runId: string | undefined;
    for (let i = 0; i < 400; i++) {
      await sleep(50);
      const [run] = await reader.listRuns({ limit: 1 });
      if (run && (await reader.countItems(run.id, 'fan')).succeeded >= 60) {
        runId = run.id;
        break;
      }
    }
    expect(runId, 'the batch never got going').toBeDefined();
    const owner = (await reader.getRun(runId as string))?.metadata.pid;
    const victim = h.workers.find((w) => w.child.pid === owner);
    expect(victim, `no worker with pid ${String(owner)}`).toBeDefined();
    victim?.child.kill('SIGKILL');
    const before = (await reader.countItems(runId as string, 'fan')).succeeded;
    expect(before).toBeLessThan(total);

    const run = await done;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`count: ${total}`));
    const record = await reader.getRun(runId as string);
    expect(record?.status).toBe('succeeded');
    expect(Number(record?.metadata.resumes)).toBeGreaterThanOrEqual(2); // taken, then taken again
    expect(record?.metadata.pid).not.toBe(owner);
    await reader.close();
    // The worker that took the run over waited for the same flow: no second generation of chunks.
    expect((await flowOf(REDIS_URL, h.prefix, runId as string, 'fan', 0))?.state).toBe('completed');
    expect(await flowOf(REDIS_URL, h.prefix, runId as string, 'fan', 1)).toBeUndefined();

    const counts = callsPerItem(readFileSync(h.callLog, 'utf8'));
    expect(counts.size).toBe(total);
    const repeated = [...counts.entries()].filter(([, n]) => n > 1);
    // At most the items in flight on the killed worker: 2 chunks × max_parallel 5.
    expect(repeated.length, JSON.stringify(repeated)).toBeLessThanOrEqual(10);
    for (const [, n] of repeated) expect(n).toBe(2);
    // The terminal reads as one run: one "running" line, the step once.
    expect(run.stderr.match(/running cluster-batch/g)).toHaveLength(1);
    expect(run.stderr.match(/✓ prep/g)).toHaveLength(1);
  }, 90_000);

  it('SIGTERM drains a worker: its run goes back to the queue and another finishes it', async () => {
    h = await clusterHarness();
    const first = await h.startWorker();
    const file = h.write('steps.yaml', batchPipeline(20, { latency: '100ms', maxParallel: 2 }));
    const { done } = runCli(['run', file, '--cluster'], h.env);
    const reader = new PostgresStore(h.db);
    for (let i = 0; i < 200; i++) {
      await sleep(50);
      const [run] = await reader.listRuns({ limit: 1 });
      if (run && (await reader.countItems(run.id, 'fan')).succeeded >= 4) break;
    }
    await h.startWorker();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.stderr()).toMatch(/draining/);
    const run = await done;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/count: 20/);
    await reader.close();
    const counts = callsPerItem(readFileSync(h.callLog, 'utf8'));
    expect(counts.size).toBe(20);
    expect([...counts.values()].filter((n) => n > 1).length).toBeLessThanOrEqual(2);
  }, 60_000);

  it('says clearly when Redis cannot be reached, and --fallback-local runs here instead', async () => {
    h = await clusterHarness();
    const file = h.write('p.yaml', 'name: small\nsteps:\n  - name: a\n    type: mock\n    prompt: "hi"\n');
    const down = await runCli(['run', file, '--cluster', '--redis', 'redis://127.0.0.1:1'], h.env).done;
    expect(down.code).toBe(69);
    expect(down.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/);
    expect(down.stderr).toMatch(/hint: .*--fallback-local/);
    expect(down.stderr).not.toMatch(/\n\s+at /);

    const local = await runCli(['run', file, '--cluster', '--redis', 'redis://127.0.0.1:1', '--fallback-local'], h.env)
      .done;
    expect(local.code, local.stderr).toBe(0);
    expect(local.stderr).toMatch(/running on this machine instead \(--fallback-local\)/);
    expect(local.stdout).toMatch(/small succeeded/);
  }, 30_000);
});
