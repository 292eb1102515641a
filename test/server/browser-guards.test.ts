// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are asserted on, not typed
// A web page must not drive a server on the user's machine: no cross-origin requests, no text/plain
// bodies (which a page can post without a preflight), and — without a token — no foreign Host
// (DNS rebinding).
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, slowPipeline, startHarness, TOKEN } from './harness.js';

/** A raw HTTP request (fetch cannot set `Host`): status and parsed JSON body. */
function raw(
  h: Harness,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: any }> {
  const url = new URL(path, h.service.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: options.method ?? 'GET',
        headers: options.headers,
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const inline = JSON.stringify({ yaml: slowPipeline('1ms', 'from-a-page'), mock: true });

describe('without a token (loopback only)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ token: '' });
  });
  afterAll(async () => {
    await h.close();
  });
  const runCount = async () => ((await (await h.call('/runs', { auth: false })).json()) as any).runs.length;

  it('refuses a body that is not application/json with 415, and starts nothing', async () => {
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', undefined]) {
      const res = await raw(h, '/runs', {
        method: 'POST',
        headers: { ...(type ? { 'content-type': type } : {}), 'content-length': String(Buffer.byteLength(inline)) },
        body: inline,
      });
      expect(res.status, type).toBe(415);
      expect(res.body.error).toMatch(/must be JSON, sent with Content-Type: application\/json/);
      expect(res.body.hint).toMatch(/Content-Type: application\/json/);
    }
    expect(await runCount()).toBe(0);
    // The open routes too (the page and /health), as the docs say: the rule is every endpoint's.
    for (const path of ['/', '/health']) {
      const res = await raw(h, path, {
        method: 'GET',
        headers: { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(inline)) },
        body: inline,
      });
      expect(res.status, path).toBe(415);
    }
    // JSON, with or without parameters, is accepted.
    for (const type of ['application/json', 'application/json; charset=utf-8']) {
      const res = await raw(h, '/runs', { method: 'POST', headers: { 'content-type': type }, body: inline });
      expect(res.status, type).toBe(202);
    }
  });

  it('refuses a request from a page of another origin with 403', async () => {
    const before = await runCount();
    for (const origin of ['http://evil.example', 'null', `http://localhost.evil.example:${h.service.port}`]) {
      const json = { 'content-type': 'application/json', origin };
      const post = await raw(h, '/runs', { method: 'POST', headers: json, body: inline });
      expect(post.status, origin).toBe(403);
      expect(post.body.error).toMatch(/cross-origin request refused/);
      expect((await raw(h, '/runs', { headers: { origin } })).status, origin).toBe(403);
      expect((await raw(h, '/runs/x/cancel', { method: 'POST', headers: { origin } })).status, origin).toBe(403);
    }
    expect(await runCount()).toBe(before);
    // The dashboard's own requests carry this server's origin.
    const own = await raw(h, '/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: h.service.url },
      body: inline,
    });
    expect(own.status).toBe(202);
  });

  it('refuses a Host that is not a loopback name with 403 (DNS rebinding)', async () => {
    const { port } = h.service;
    for (const host of ['rebind.evil.example', `rebind.evil.example:${port}`, `127.0.0.1.nip.io:${port}`]) {
      const res = await raw(h, '/runs', { headers: { host } });
      expect(res.status, host).toBe(403);
      expect(res.body.error).toMatch(/answers only to localhost, 127.0.0.1 or \[::1\]/);
      // Same-origin from the rebinding page's point of view: still refused.
      const post = await raw(h, '/runs', {
        method: 'POST',
        headers: { host, origin: `http://${host}`, 'content-type': 'application/json' },
        body: inline,
      });
      expect(post.status, host).toBe(403);
    }
    expect((await raw(h, '/', { headers: { host: 'rebind.evil.example' } })).status).toBe(403);
    for (const host of ['localhost', `localhost:${port}`, '127.0.0.1', `127.0.0.1:${port}`, '[::1]', `[::1]:${port}`]) {
      expect((await raw(h, '/runs', { headers: { host } })).status, host).toBe(200);
    }
  });
});

describe('with a token', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers any Host (the token protects it) but still no other origin and no text/plain body', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await raw(h, '/runs', { headers: { ...auth, host: 'elexirion.internal' } })).status).toBe(200);
    expect((await raw(h, '/runs', { headers: { ...auth, origin: 'http://evil.example' } })).status).toBe(403);
    const plain = await raw(h, '/runs', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: inline,
    });
    expect(plain.status).toBe(415);
  });
});
