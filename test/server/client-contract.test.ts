// What an HTTP client (an SDK, curl in a script) relies on beyond the body: the scheme a 401 asks
// for, a `limit` read as the number it says, and a hint it can act on when a provider key is missing.
// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are asserted on, not typed
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('401', () => {
  it('names the Bearer scheme in WWW-Authenticate, and says when the token is the problem', async () => {
    for (const path of ['/runs', '/pipelines', '/metrics', '/runs/X/events', '/runs/X/cancel']) {
      const missing = await h.call(path, { auth: false });
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="elexirion"');
      const wrong = await h.call(path, { auth: false, headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="elexirion", error="invalid_token"');
    }
    // Not on a request that passes.
    expect((await h.call('/pipelines')).headers.get('www-authenticate')).toBeNull();
  });
});

describe('GET /runs?limit=', () => {
  it.each(['0x10', '1e2', '%205', '2.0', '+3', '0', '-1', '1001', '', 'abc'])(
    'refuses limit=%s (400)',
    async (limit) => {
      const res = await h.call(`/runs?limit=${limit}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error).toBe('`limit` must be an integer from 1 to 1000');
    },
  );

  it.each(['1', '50', '1000', '007'])('accepts limit=%s', async (limit) => {
    expect((await h.call(`/runs?limit=${limit}`)).status).toBe(200);
  });
});

describe('POST /runs with a provider whose key the server lacks', () => {
  it('400 whose hint the caller can follow: not `export` nor `--mock`, but the operator or `"mock": true`', async () => {
    const yaml =
      'name: k\nsteps:\n  - name: a\n    type: llm\n    provider: anthropic\n    model: claude-sonnet-4-5\n    prompt: hi\n';
    const res = await h.call('/runs', { json: { yaml } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error).toBe('provider "anthropic" has no API key: ANTHROPIC_API_KEY is not set');
    expect(body.hint).toBe(
      'the server\'s environment lacks it: ask its operator to set ANTHROPIC_API_KEY=…, or send `"mock": true` to use no provider at all',
    );
    // And `"mock": true` does run it.
    expect((await h.call('/runs', { json: { yaml, mock: true } })).status).toBe(202);
  });
});

describe('a run id in the URL', () => {
  it('is read in either case, as the CLI reads it (ULIDs are Crockford base32)', async () => {
    const yaml = 'name: k\nsteps:\n  - name: a\n    type: mock\n    prompt: hi\n';
    const started = await h.call('/runs', { json: { yaml, mock: true } });
    const id = ((await started.json()) as any).run_id as string;
    const shown = await h.call(`/runs/${id.toLowerCase()}`);
    expect(shown.status).toBe(200);
    expect(((await shown.json()) as any).run_id).toBe(id);
  });
});

describe('every answer', () => {
  it('forbids content sniffing (X-Content-Type-Options: nosniff), errors and the event stream included', async () => {
    const yaml = 'name: k\nsteps:\n  - name: a\n    type: mock\n    prompt: hi\n';
    const id = ((await (await h.call('/runs', { json: { yaml, mock: true } })).json()) as any).run_id as string;
    for (const [path, options] of [
      ['/runs', {}],
      [`/runs/${id}`, {}],
      ['/health', {}],
      ['/', {}],
      ['/nope', {}],
      ['/runs', { auth: false }],
      [`/runs/${id}/events`, {}],
    ] as const) {
      const res = await h.call(path, options);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      await res.body?.cancel();
    }
  });
});
