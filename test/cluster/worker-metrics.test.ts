// A cluster worker serves its own /metrics and /health (`elexirion worker --metrics-port`): in a
// cluster, the runs run on the workers, so only they can count them — `serve --cluster`'s /metrics
// sees what the serve process runs itself, which is nothing. The worker's metrics count its runs,
// steps, tokens and costs, and the calls of the batch chunks it runs for any run (their item runners
// publish on a bus of their own, not the run's event stream).
// In-process workers (ClusterWorker) on the machine's Redis and PostgreSQL.
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ClusterRuns } from '../../src/cluster/remote-runs.js';
import { ClusterWorker } from '../../src/cluster/worker.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { batchPipeline, REDIS_URL } from './harness.js';
import { FAST_TIMING, inProcessCluster, until } from './in-process.js';

const cluster = inProcessCluster();
const { cleanups } = cluster;

const sample = (text: string, line: RegExp): number => {
  const match = text.split('\n').find((l) => line.test(l));
  return match ? Number(match.split(' ').at(-1)) : Number.NaN;
};

const tokenSum = (text: string): number =>
  text
    .split('\n')
    .filter((l) => l.startsWith('pipeline_tokens_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);

/** The status of a GET with the Host header given (fetch cannot set `Host`). */
function statusFor(url: string, host: string): Promise<number> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: pathname, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

async function setUp(metrics: { port: number; token?: string }) {
  const harness = await cluster.harness();
  const config = { redisUrl: REDIS_URL, prefix: harness.prefix };
  const store = new PostgresStore(harness.db);
  cleanups.push(() => store.close());
  const worker = new ClusterWorker({
    config,
    store,
    env: process.env,
    concurrency: 1,
    itemConcurrency: 2,
    chunkSize: 5,
    timing: FAST_TIMING,
    metrics,
  });
  cleanups.push(() => worker.drain());
  await worker.start();
  const runs = new ClusterRuns(config, store);
  cleanups.push(() => runs.close());
  const run = async (yaml: string) => {
    const runId = await runs.submit(loadPipelineFromString(yaml, 'p.yaml'), {});
    return until('the run to end', async () => {
      const record = await store.getRun(runId);
      return record && record.status !== 'running' ? record : undefined;
    });
  };
  return { worker, run, url: worker.metricsUrl as string };
}

/** The worker's metrics once it has counted `runs` runs ended (polled, at most 10 s). */
async function metricsOnceEnded(url: string, runs: number): Promise<string> {
  for (let i = 0; ; i++) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (sample(text, /^pipeline_runs_total\{status="succeeded"\}/) === runs || i === 200) return text;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a worker’s /metrics and /health', () => {
  it('counts the runs it ran, their steps and tokens, and the calls of the batch chunks it ran', async () => {
    const { worker, run, url } = await setUp({ port: 0 });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const simple = await run(
      'name: p\nsteps:\n  - { name: a, type: mock, prompt: a }\n  - { name: b, type: mock, prompt: b }\n',
    );
    expect(simple.status, simple.error).toBe('succeeded');
    // The journal says succeeded a moment before the worker's run has ended (its execution.stop).
    let text = await metricsOnceEnded(url, 1);
    expect(sample(text, /^pipeline_runs_total\{status="succeeded"\}/)).toBe(1);
    expect(sample(text, /^pipeline_steps_total\{step_type="mock",status="succeeded"\}/)).toBe(2);
    expect(tokenSum(text)).toBe(simple.totals.inputTokens + simple.totals.outputTokens);
    expect(tokenSum(text)).toBeGreaterThan(0);

    // 12 items in chunks of 5: the items run as chunk jobs (here, on the only worker), not in the run.
    const batch = await run(batchPipeline(12, { latency: '5ms' }));
    expect(batch.status, batch.error).toBe('succeeded');
    text = await metricsOnceEnded(url, 2);
    expect(sample(text, /^pipeline_runs_total\{status="succeeded"\}/)).toBe(2);
    expect(sample(text, /^pipeline_steps_total\{step_type="batch",status="succeeded"\}/)).toBe(1);
    // Every token of both runs, the batch items' included.
    const spent = [simple, batch].reduce((sum, r) => sum + r.totals.inputTokens + r.totals.outputTokens, 0);
    expect(batch.totals.calls).toBe(13); // prep + 12 items
    expect(tokenSum(text)).toBe(spent);
    expect(sample(text, /^pipeline_active_runs /)).toBe(0);
    expect(sample(text, /^pipeline_provider_bulkhead_in_flight\{provider="mock"\}/)).toBe(0);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'healthy',
      worker: { id: worker.id, concurrency: 1, activeRuns: 0, activeChunks: 0, draining: false },
      checks: { redis: { status: 'ok' } },
    });
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);
    // No page of a browser, and (no token, on loopback) no name but a loopback one.
    expect((await fetch(`${url}/metrics`, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    expect(await statusFor(`${url}/metrics`, `rebind.evil.example:${new URL(url).port}`)).toBe(403);
    expect(await statusFor(`${url}/metrics`, `localhost:${new URL(url).port}`)).toBe(200);

    // Drained, the worker stops serving.
    await worker.drain();
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  }, 60_000);

  it('with a token: /metrics needs it, /health does not', async () => {
    const { url } = await setUp({ port: 0, token: 's3cret-token' });
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer s3cret-token' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await ok.text()).toMatch(/^# HELP pipeline_runs_total /m);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  }, 60_000);

  it('a port already in use fails the start, with exit code 69, before any job is taken', async () => {
    const { url } = await setUp({ port: 0 });
    const port = Number(new URL(url).port);
    const harness = await cluster.harness();
    const store = new PostgresStore(harness.db);
    cleanups.push(() => store.close());
    const second = new ClusterWorker({
      config: { redisUrl: REDIS_URL, prefix: harness.prefix },
      store,
      env: process.env,
      concurrency: 1,
      timing: FAST_TIMING,
      metrics: { port },
    });
    cleanups.push(() => second.drain());
    const error = await second.start().then(
      () => undefined,
      (e: unknown) => e as { exitCode?: number; message: string },
    );
    expect(error?.exitCode).toBe(69);
    expect(error?.message).toMatch(/cannot serve metrics on 127\.0\.0\.1:\d+: the port is already in use/);
  }, 60_000);
});
