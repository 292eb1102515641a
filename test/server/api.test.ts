// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are asserted on, not typed
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalKilledBatch } from '../journal/killed-batch.js';
import { type Harness, readSse, seqOf, slowPipeline, startHarness, TOKEN, waitForStatus } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('POST /runs', () => {
  it('runs a pipeline file inside the root and answers 202 with the run id', async () => {
    const res = await h.call('/runs', { json: { file: 'pipelines/slow.yaml', inputs: { topic: 'owls' } } });
    expect(res.status).toBe(202);
    const { run_id } = (await res.json()) as any;
    const run = await waitForStatus(h, run_id, 'succeeded');
    expect(run.outputs.text).toBe('A polished text about owls');
    expect(run.steps.map((s: { name: string }) => s.name)).toEqual(['outline', 'draft', 'polish']);
  });

  it("GET /runs shows a killed run's spend from its journal, not the zeros of its unfinished row", async () => {
    const runId = 'killed-with-items';
    await journalKilledBatch(h.store, runId, 3, { inputTokens: 10, outputTokens: 5, costUsd: 0.5 });
    const listed = (await (await h.call('/runs?limit=1000')).json()) as { runs: Array<Record<string, any>> };
    const killed = listed.runs.find((r) => r.run_id === runId);
    expect(killed?.totals).toMatchObject({ calls: 3, input_tokens: 30, output_tokens: 15, cost_usd: 1.5 });
  });

  it('GET /runs/:id passes through the redactor, as the event stream does', async () => {
    const yaml = `name: leaky\nsteps:\n  - { name: s, type: mock, prompt: hi, response: "token ${TOKEN} here" }\noutputs:\n  said: "{{ steps.s.output }}"\n`;
    const res = await h.call('/runs', { method: 'POST', json: { yaml, mock: true, stream: true } });
    const { run_id } = (await res.json()) as { run_id: string };
    const events = await (await h.call(`/runs/${run_id}/events`)).text();
    await waitForStatus(h, run_id, 'succeeded');
    const text = await (await h.call(`/runs/${run_id}`)).text();
    expect(text).not.toContain(TOKEN);
    expect(JSON.parse(text).outputs.said).toBe('token [REDACTED] here');
    expect(events).toContain('pipeline.step.chunk');
    expect(events).not.toContain(TOKEN);
  });

  it('serves an answer holding a URL and an e-mail address as it was, in GET /runs/:id and the event stream', async () => {
    const answer = '{"site":"https://example.com","contact":"bob@example.com"}';
    const yaml = `name: contacts\nsteps:\n  - name: extract\n    type: mock\n    prompt: x\n    response: '${answer}'\noutputs:\n  json: "{{ steps.extract.output }}"\n`;
    const res = await h.call('/runs', { json: { yaml, stream: true } });
    const { run_id } = (await res.json()) as { run_id: string };
    const events = await readSse(await h.call(`/runs/${run_id}/events`));
    const run = await waitForStatus(h, run_id, 'succeeded');
    expect(run.steps[0]?.output).toBe(answer);
    expect(run.outputs.json).toBe(answer);
    const chunks = events.filter((e) => e.event === 'pipeline.step.chunk').map((e: any) => e.data.data.text);
    expect(chunks.join('')).toBe(answer);
  });

  it('runs inline YAML', async () => {
    const res = await h.call('/runs', { json: { yaml: slowPipeline('1ms', 'inline') } });
    expect(res.status).toBe(202);
    const run = await waitForStatus(h, ((await res.json()) as any).run_id, 'succeeded');
    expect(run.pipeline).toBe('inline');
  });

  it('takes an input sent as null as not given: its default (was a 422, "must be string, got null")', async () => {
    const yaml =
      'name: notes\ninputs:\n  notes: { type: string, default: "(none)" }\nsteps:\n  - { name: a, type: mock, prompt: x, response: "{{ notes }}" }\noutputs:\n  said: "{{ steps.a.output }}"\n';
    const res = await h.call('/runs', { json: { yaml, mock: true, inputs: { notes: null } } });
    expect(res.status).toBe(202);
    const run = await waitForStatus(h, ((await res.json()) as any).run_id, 'succeeded');
    expect(run.outputs.said).toBe('(none)');
  });

  it('refuses a path outside the root with 403', async () => {
    for (const file of ['../etc/passwd', '/etc/passwd', 'pipelines/../../x.yaml']) {
      const res = await h.call('/runs', { json: { file } });
      expect(res.status, file).toBe(403);
      const body = (await res.json()) as any;
      expect(body.error).toMatch(/outside the pipelines directory/);
      expect(body.hint).toMatch(/--root/);
    }
  });

  it('answers clear JSON 4xx errors for bad bodies and invalid pipelines', async () => {
    const bad = await h.call('/runs', {
      method: 'POST',
      body: '{nope',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error).toMatch(/not valid JSON/);

    const both = await h.call('/runs', { json: { file: 'a.yaml', yaml: 'name: x' } });
    expect(both.status).toBe(400);
    expect(((await both.json()) as any).error).toMatch(/exactly one of `file`/);

    const unknownKey = await h.call('/runs', { json: { file: 'pipelines/slow.yaml', mokc: true } });
    expect(unknownKey.status).toBe(400);

    const invalid = await h.call('/runs', { json: { yaml: 'name: x\nsteps: []\n' } });
    expect(invalid.status).toBe(422);
    const body = (await invalid.json()) as any;
    expect(body.diagnostics.length).toBeGreaterThan(0);

    const missing = await h.call('/runs', { json: { file: 'pipelines/nope.yaml' } });
    expect(missing.status).toBe(422);
    expect(JSON.stringify((await missing.json()) as any)).toMatch(/no such file/);

    const badInput = await h.call('/runs', { json: { file: 'pipelines/slow.yaml', inputs: { nope: 1 } } });
    expect(badInput.status).toBeGreaterThanOrEqual(400);
    expect(badInput.status).toBeLessThan(500);

    // A missing required input: the hint says how to give it over HTTP, not with --input.
    const needsInput = await h.call('/runs', {
      json: {
        yaml: 'name: needs\ninputs:\n  topic: { type: string, required: true }\nsteps:\n  - name: a\n    type: mock\n    prompt: "{{ topic }}"\n',
      },
    });
    expect(needsInput.status).toBe(422);
    const hints = JSON.stringify((await needsInput.json()) as any);
    expect(hints).toMatch(/missing required input \\"topic\\"/);
    expect(hints).toContain('\\"inputs\\": { \\"topic\\": VALUE }');
    expect(hints).not.toContain('--input');
  });

  it('limits the request body size', async () => {
    const res = await h.call('/runs', { json: { yaml: `# ${'x'.repeat(2 * 1024 * 1024)}` } });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error).toMatch(/larger than/);
  });
});

describe('auth', () => {
  it('requires the bearer token everywhere but /health and the page', async () => {
    for (const path of ['/runs', '/metrics', '/pipelines', '/runs/x']) {
      const res = await h.call(path, { auth: false });
      expect(res.status, path).toBe(401);
      expect(((await res.json()) as any).hint).toMatch(/Authorization: Bearer/);
    }
    const wrong = await h.call('/runs', { auth: false, headers: { authorization: 'Bearer wrong' } });
    expect(wrong.status).toBe(401);
    expect((await h.call('/health', { auth: false })).status).toBe(200);
    const page = await h.call('/', { auth: false });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(TOKEN).not.toBe('');
  });

  it('refuses to listen on a non-loopback host without a token', async () => {
    await expect(startHarness({ host: '0.0.0.0', token: '' })).rejects.toThrow(/without a token/);
  });
});

describe('pipelines', () => {
  it('lists the pipeline files relative to the root, without saying where the root is', async () => {
    const res = await h.call('/pipelines');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ files: expect.arrayContaining(['pipelines/slow.yaml']) });
    expect(text).not.toContain(h.root);
  });
});

describe('runs', () => {
  it('lists runs with status, duration, tokens and cost', async () => {
    const res = await h.call('/runs?limit=5');
    const { runs } = (await res.json()) as any;
    expect(runs.length).toBeGreaterThan(0);
    expect(runs[0]).toHaveProperty('totals.input_tokens');
    expect(runs[0]).toHaveProperty('status');
    expect(runs[0]).not.toHaveProperty('steps');
    expect((await h.call('/runs?limit=0')).status).toBe(400);
    expect((await h.call('/runs?status=bogus')).status).toBe(400);
  });

  it('answers 404 for an unknown run', async () => {
    const res = await h.call('/runs/01HZZZZZZZZZZZZZZZZZZZZZZZ');
    expect(res.status).toBe(404);
    expect((await h.call('/runs/nope/events')).status).toBe(404);
  });

  it('cancels a running run and resumes it to success', async () => {
    const { run_id } = (await (await h.call('/runs', { json: { file: 'pipelines/very-slow.yaml' } })).json()) as any;
    await new Promise((r) => setTimeout(r, 100));
    const cancel = await h.call(`/runs/${run_id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(202);
    await waitForStatus(h, run_id, 'cancelled');
    expect((await h.call(`/runs/${run_id}/cancel`, { method: 'POST' })).status).toBe(409);

    const resume = await h.call(`/runs/${run_id}/resume`, { method: 'POST' });
    expect(resume.status).toBe(202);
    expect((await h.call(`/runs/${run_id}/resume`, { method: 'POST' })).status).toBe(409);
    const stop = await h.call(`/runs/${run_id}/cancel`, { method: 'POST' });
    expect(stop.status).toBe(202);
  });
});

describe('GET /runs/:id/events', () => {
  it('streams every event live with seq ids, ending after execution.stop', async () => {
    const { run_id } = (await (await h.call('/runs', { json: { file: 'pipelines/slow.yaml' } })).json()) as any;
    const events = await readSse(await h.call(`/runs/${run_id}/events`));
    const types = events.map((e) => e.event);
    expect(types[0]).toBe('pipeline.execution.start');
    expect(types.at(-1)).toBe('pipeline.execution.stop');
    expect(types.filter((t) => t === 'pipeline.step.stop')).toHaveLength(3);
    const ids = events.map((e) => seqOf(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    // The live ids are the journal's seqs.
    const journal = await h.store.getEvents(run_id, 0, 1000);
    expect(ids).toEqual(journal.map((e) => e.seq));
    expect(events.map((e) => e.event)).toEqual(journal.map((e) => e.type));
  });

  it('replays from Last-Event-ID without gaps or repeats', async () => {
    const { run_id } = (await (await h.call('/runs', { json: { file: 'pipelines/slow.yaml' } })).json()) as any;
    const all = await readSse(await h.call(`/runs/${run_id}/events`));
    const middle = seqOf(all[3]?.id);
    const rest = await readSse(
      await h.call(`/runs/${run_id}/events`, { headers: { 'last-event-id': String(middle) } }),
    );
    expect(rest.map((e) => seqOf(e.id))).toEqual(all.slice(4).map((e) => seqOf(e.id)));
    for (const bad of ['x', '0x10', '1e3', '-1', '2.5'])
      expect((await h.call(`/runs/${run_id}/events`, { headers: { 'last-event-id': bad } })).status, bad).toBe(400);
  });

  it('joins a run midway: the journal, then the uncommitted events, then live ones', async () => {
    const { run_id } = (await (await h.call('/runs', { json: { file: 'pipelines/very-slow.yaml' } })).json()) as any;
    await new Promise((r) => setTimeout(r, 1300)); // first step done, second in progress
    const events = await readSse(await h.call(`/runs/${run_id}/events`));
    const journal = await h.store.getEvents(run_id, 0, 1000);
    expect(events.map((e) => seqOf(e.id))).toEqual(journal.map((e) => e.seq));
    expect(events.filter((e) => e.event === 'pipeline.step.start')).toHaveLength(3);
  }, 15_000);
});

describe('the dashboard page', () => {
  it('is served without a token and refuses to be framed by another site (clickjacking)', async () => {
    const res = await h.call('/', { auth: false });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
  });
});

describe('/metrics and /health', () => {
  it('serves Prometheus text with the pipeline metrics', async () => {
    const res = await h.call('/metrics');
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^pipeline_runs_total\{status="succeeded"\} [1-9]/m);
    expect(text).toMatch(/^pipeline_steps_total\{step_type="mock",status="succeeded"\} [1-9]/m);
    expect(text).toMatch(/^pipeline_active_runs \d+$/m);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
  });

  it('reports health without a token', async () => {
    const report = (await (await h.call('/health', { auth: false })).json()) as any;
    expect(['healthy', 'degraded']).toContain(report.status);
    expect(report.checks.database.status).toBe('ok');
    expect(report.checks.eventLoop).toHaveProperty('p99Ms');
    expect(Date.parse(report.timestamp)).not.toBeNaN();
  });
});
