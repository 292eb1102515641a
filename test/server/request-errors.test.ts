// What the API answers a caller's mistake, in words that fit it: an unknown query parameter is a
// 400 (not the defaults, silently), bad inputs are not "an invalid pipeline", and a resume of a run
// this very server is executing does not ask the caller to stop "that process" (the server).
// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are asserted on, not typed
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, waitForStatus } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('query parameters', () => {
  it('GET /runs?limt=3: 400 naming the parameter, a did-you-mean and the accepted ones', async () => {
    const res = await h.call('/runs?limt=3');
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error).toBe('unknown query parameter "limt"');
    expect(body.hint).toMatch(/did you mean `limit`\?/);
    expect(body.hint).toMatch(/accepted: `limit`, `status`/);
    // Known ones still work; one given twice is as ambiguous as an unknown one.
    expect((await h.call('/runs?limit=3&status=succeeded')).status).toBe(200);
    const twice = await h.call('/runs?limit=3&limit=4');
    expect(twice.status).toBe(400);
    expect(((await twice.json()) as any).error).toMatch(/`limit` is given more than once/);
  });

  it('GET /runs/:id/events?aftr=2: 400 naming the parameter and `after`', async () => {
    const { run_id } = (await (await h.call('/runs', { json: { file: 'pipelines/slow.yaml' } })).json()) as any;
    await waitForStatus(h, run_id, 'succeeded');
    const res = await h.call(`/runs/${run_id}/events?aftr=2`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error).toBe('unknown query parameter "aftr"');
    expect(body.hint).toMatch(/did you mean `after`\? accepted: `after`/);
    expect((await h.call(`/runs/${run_id}/events?after=2`)).status).toBe(200);
  });
});

describe('POST /runs with bad inputs', () => {
  it('says the inputs are invalid (422, with the diagnostics), not the pipeline', async () => {
    const res = await h.call('/runs', { json: { file: 'pipelines/slow.yaml', inputs: { topik: 'owls' } } });
    expect(res.status).toBe(422);
    const body = (await res.json()) as any;
    expect(body.error).toBe("the run's inputs are invalid");
    expect(body.hint).toMatch(/`inputs` of the request/);
    expect(body.diagnostics).toEqual([
      expect.objectContaining({
        file: 'pipelines/slow.yaml',
        path: 'inputs.topik',
        message: 'unknown input "topik": the pipeline does not declare it',
        hint: 'did you mean "topic"?',
      }),
    ]);
    // An invalid pipeline is still said to be one.
    const invalid = await h.call('/runs', { json: { yaml: 'name: x\nsteps: []\n' } });
    expect(invalid.status).toBe(422);
    expect(((await invalid.json()) as any).error).toBe('the pipeline is invalid');
  });
});

describe('POST /runs/:id/resume of a run this server is running', () => {
  it('409: the run is still running here — wait, or cancel it first; not "stop that process"', async () => {
    const { run_id } = (await (await h.call('/runs', { json: { file: 'pipelines/very-slow.yaml' } })).json()) as any;
    const res = await h.call(`/runs/${run_id}/resume`, { method: 'POST' });
    expect(res.status).toBe(409);
    const body = (await res.json()) as any;
    expect(body.error).toBe(`run ${run_id} is still running in this server`);
    expect(body.hint).toBe(`wait for it to end, or cancel it first (POST /runs/${run_id}/cancel); then resume it`);
    expect(JSON.stringify(body)).not.toMatch(/process/);
    expect((await h.call(`/runs/${run_id}/cancel`, { method: 'POST' })).status).toBe(202);
    await waitForStatus(h, run_id, 'cancelled');
  });
});
