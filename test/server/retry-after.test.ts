// A 503 is the server's state, not the request's fault: each one says when to ask again
// (Retry-After, in seconds), so that a client waits rather than retrying at once in a loop.
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { Admissions } from '../../src/server/admissions.js';
import { errorResponse } from '../../src/server/http-error.js';
import { RETRY_AFTER_SECONDS } from '../../src/server/retry-after.js';
import { type Harness, startHarness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('Retry-After', () => {
  it('is on GET /health while unhealthy (the journal failing), and not once healthy', async () => {
    h = await startHarness();
    const { store } = h;
    expect((await h.call('/health')).headers.get('retry-after')).toBeNull();
    const listRuns = store.listRuns.bind(store);
    store.listRuns = () => Promise.reject(new Error('the journal is gone'));
    const unhealthy = await h.call('/health');
    expect(unhealthy.status).toBe(503);
    expect(unhealthy.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
    store.listRuns = listRuns;
    const healthy = await h.call('/health');
    expect(healthy.status).toBe(200);
    expect(healthy.headers.get('retry-after')).toBeNull();
  });

  it("is on a 503 for the journal's storage failing (a full disk)", async () => {
    h = await startHarness();
    h.store.listRuns = () =>
      Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    const full = await h.call('/runs');
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
  });

  it('is on the 503 refusing a run while the server shuts down', async () => {
    // The server's own admissions and error answer; the race with its listener closing is
    // shutdown-submissions.test.ts's.
    const admissions = new Admissions();
    await admissions.close(0);
    const app = new Hono();
    app.onError((error, c) => errorResponse(c, error, (text) => text));
    app.post('/runs', () => admissions.admit(() => Promise.resolve(new Response('started'))));
    const refused = await app.request('/runs', { method: 'POST' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
  });

  it('is not on other errors', async () => {
    h = await startHarness();
    for (const [path, status] of [
      ['/runs/NOPE', 404],
      ['/runs?limit=0', 400],
    ] as const) {
      const res = await h.call(path);
      expect(res.status).toBe(status);
      expect(res.headers.get('retry-after')).toBeNull();
    }
  });
});
