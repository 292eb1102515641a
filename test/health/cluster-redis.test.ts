// Under `serve --cluster` every run is submitted, cancelled and resumed through the cluster's Redis:
// with Redis down the server can start nothing, so its GET /health must say unhealthy (503, out of
// its load balancer's rotation) — and healthy again once Redis is back. Against a redis-server of the
// test's own (stopped and restarted), and a unit check of a Redis that never answers.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterConfig } from '../../src/cluster/connection.js';
import { ClusterRuns } from '../../src/cluster/remote-runs.js';
import { EventLoopMonitor } from '../../src/health/event-loop.js';
import { checkHealth } from '../../src/health/health.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { type Service, startService } from '../../src/server/service.js';
import { type OwnRedis, ownRedis } from '../cluster/own-redis.js';

describe('GET /health of serve --cluster', () => {
  let redis: OwnRedis;
  let store: SqliteStore;
  let service: Service;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-health-redis-'));
    redis = await ownRedis(dir);
    store = new SqliteStore(join(dir, 'journal.db'));
    const remote = new ClusterRuns(clusterConfig(redis.url, {}), store);
    service = await startService({ store, root: dir, port: 0, env: {}, remote });
  });

  afterAll(async () => {
    await service?.shutdown(1000);
    await store?.close();
    await redis?.stop();
  });

  const health = async () => {
    const res = await fetch(`${service.url}/health`);
    const body = (await res.json()) as { status: string; checks: { redis?: { status: string; error?: string } } };
    return { code: res.status, status: body.status, redis: body.checks.redis };
  };

  it('reports Redis, and is unhealthy while it is down', async () => {
    const up = await health();
    expect(up).toMatchObject({ code: 200, redis: { status: 'ok' } });
    expect(up.status).not.toBe('unhealthy');

    await redis.stop();
    const down = await health();
    expect(down).toMatchObject({ code: 503, status: 'unhealthy', redis: { status: 'fail' } });
    expect(down.redis?.error).toBeTruthy();

    await redis.start();
    await expect.poll(async () => (await health()).code, { timeout: 15_000 }).toBe(200);
    expect((await health()).redis?.status).toBe('ok');
  }, 30_000);
});

describe('checkHealth with a Redis', () => {
  it('fails the check, within its time, when Redis never answers; its URL’s password is not shown', async () => {
    const eventLoop = new EventLoopMonitor();
    const store = new SqliteStore(':memory:');
    try {
      const hanging = { ping: () => new Promise<never>(() => {}) };
      const slow = await checkHealth({ store, eventLoop, env: {}, redis: hanging, redisTimeoutMs: 20 });
      expect(slow.status).toBe('unhealthy');
      expect(slow.checks.redis).toMatchObject({ status: 'fail', error: expect.stringMatching(/within 20 ms/) });

      const refused = {
        ping: () => Promise.reject(new Error('cannot reach redis://:r3dis-Pa55w0rd@cache:6379 (ECONNREFUSED)')),
      };
      const report = await checkHealth({ store, eventLoop, env: {}, redis: refused });
      expect(report.checks.redis?.error).toBe('cannot reach redis://:***@cache:6379 (ECONNREFUSED)');
      // Without a Redis to ask (serve without --cluster, `elexirion health`): no such check.
      expect((await checkHealth({ store, eventLoop, env: {} })).checks).not.toHaveProperty('redis');
    } finally {
      eventLoop.stop();
      await store.close();
    }
  });
});
