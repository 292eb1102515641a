// A known fake key must appear in no log line, event, journal row (the SQLite files read raw) or
// error message — on the success path and on a 401.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ElexirionError, ExitCode } from '../../src/errors.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { attachLogging, createLogger } from '../../src/telemetry/logger.js';
import { createRedactor, REDACTED, redactDeep } from '../../src/telemetry/redact.js';
import { AnthropicFake, faults } from '../fakes/index.js';
import { CLAUDE_PIPELINE, MOCK_PIPELINE, newEngine, runYaml } from './run-pipeline.js';

const KEY = 'sk-ant-fake-Zq9xW3vB7nM2kL5pR8tY';

function lines(): { stream: Writable; all: string[] } {
  const all: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      all.push(String(chunk));
      done();
    },
  });
  return { stream, all };
}

describe('redaction', () => {
  it('replaces secret env values and key-shaped strings', () => {
    const redact = createRedactor({ ANTHROPIC_API_KEY: KEY, MY_TOKEN: 'tok-123456', DEBUG: 'verbose' });
    expect(redact(`key ${KEY} and tok-123456 and verbose`)).toBe(`key ${REDACTED} and ${REDACTED} and verbose`);
    expect(redact('sk-proj-abcdefghijklmnop')).toBe(REDACTED);
    expect(redact('AIzaSyA1234567890abcdefghijklmnop')).toBe(REDACTED);
    expect(redact('Authorization: Bearer abc.def.ghi123')).toBe(`Authorization: ${REDACTED}`);
    expect(redactDeep({ a: [`x${KEY}`], n: 3 }, redact)).toEqual({ a: [`x${REDACTED}`], n: 3 });
  });

  it('treats passwords, credentials and the values of custom headers (a gateway credential) as secrets', () => {
    const redact = createRedactor({
      PGPASSWORD: 'hunter2-pg',
      ANTHROPIC_CUSTOM_HEADERS: 'x-gateway-auth: gwcred-777777\nx-env: prod',
      SERVICE_CREDENTIALS: 'svc-creds-abc',
    });
    expect(redact('body: {"x-gateway-auth":"gwcred-777777","x-env":"prod"}')).toBe(
      `body: {"x-gateway-auth":"${REDACTED}","x-env":"prod"}`,
    );
    expect(redact('pw hunter2-pg creds svc-creds-abc')).toBe(`pw ${REDACTED} creds ${REDACTED}`);
  });

  it('redacts a password in a URL, in its userinfo or its query (database and Redis clients read both)', () => {
    const redact = createRedactor({});
    expect(redact('at postgres://bob:s3cret@db/x and redis://h:6379/0?db=1&password=r3dis&x=1')).toBe(
      'at postgres://bob:***@db/x and redis://h:6379/0?db=1&password=***&x=1',
    );
    expect(redact('"postgres://bob@db/x?sslpassword=k3y"')).toBe('"postgres://bob@db/x?sslpassword=***"');
  });

  it('keeps the key out of a log line even when the message carries it', () => {
    const out = lines();
    const logger = createLogger({ destination: out.stream, env: { ANTHROPIC_API_KEY: KEY } });
    logger.error({ err: new Error(`bad key ${KEY}`) }, `calling with ${KEY}`);
    expect(out.all.join('')).not.toContain(KEY);
    expect(out.all.join('')).toContain(REDACTED);
  });
});

describe('a secret as a log line or a URL spells it', () => {
  // A generated password or a base64 key: characters that JSON and URLs escape.
  const SECRET = 'pa"ss\\wo+rd/Q7=';

  it('is redacted inside a JSON log line, where its `"` and `\\` are escaped', () => {
    const out = lines();
    const logger = createLogger({ destination: out.stream, env: { DB_SECRET: SECRET } });
    logger.error({ body: JSON.stringify({ error: `bad credential ${SECRET}` }) }, `calling with ${SECRET}`);
    const line = JSON.parse(out.all.join('')) as { msg: string; body: string };
    expect(line.msg).toBe(`calling with ${REDACTED}`);
    // Quoted twice: a JSON error body inside a field of the line.
    expect(line.body).not.toContain(SECRET);
    expect(line.body).toContain(REDACTED);
  });

  it('is redacted percent-encoded, in a URL', () => {
    const redact = createRedactor({ DB_SECRET: SECRET });
    const url = `GET https://api.example.com/v1/models?key=${encodeURIComponent(SECRET)}&alt=sse`;
    expect(redact(url)).toBe(`GET https://api.example.com/v1/models?key=${REDACTED}&alt=sse`);
  });

  it('is redacted whole when a URL password holds a raw `@`', () => {
    const redact = createRedactor({});
    expect(redact('connect ECONNREFUSED http://proxy:p@ss-W0rd@10.0.0.1:3128/v1 (then bob@example.com)')).toBe(
      'connect ECONNREFUSED http://proxy:***@10.0.0.1:3128/v1 (then bob@example.com)',
    );
  });
});

describe('the URL-password rule, on text that holds no password', () => {
  // A URL and, later, an `@`: compact JSON (an answer, an event, a log line) must come out as it went in.
  const ANSWER = '{"site":"https://example.com","contact":"bob@example.com"}';
  const RECORD = JSON.stringify({ event: 'x', url: 'http://localhost:8080', user: { email: 'a@b.c' } });

  it('never reaches past a quote, a brace or a bracket to a later `@`', () => {
    const redact = createRedactor({});
    expect(redact(ANSWER)).toBe(ANSWER);
    expect(redact(RECORD)).toBe(RECORD);
    for (const text of [
      '["http://localhost:8080","a@b.c"]',
      '{"u":"http://h:1"}{"e":"x@y"}',
      '<http://localhost:8080> <a@b.c>',
      '`http://localhost:8080`,`a@b.c`',
      JSON.stringify({ msg: 'quoted "http://h:1",bob@example.com' }),
    ]) {
      expect(redact(text), text).toBe(text);
    }
  });

  it('still hides a password inside JSON, quotes and brackets', () => {
    const redact = createRedactor({});
    expect(redact('{"db":"postgres://app:pw-123@db:5432/x","mail":"a@b.c"}')).toBe(
      '{"db":"postgres://app:***@db:5432/x","mail":"a@b.c"}',
    );
    expect(redact("proxy 'http://u:p%40ss,w;rd!@10.0.0.1:3128' <redis://:s3cr3t@cache>")).toBe(
      "proxy 'http://u:***@10.0.0.1:3128' <redis://:***@cache>",
    );
    expect(redact('http://u:pässwört@h')).toBe('http://u:***@h');
  });

  it('leaves a log line and a streamed record valid JSON, as they were', () => {
    const out = lines();
    const logger = createLogger({ destination: out.stream, env: {} });
    logger.info({ url: 'http://localhost:8080', user: { email: 'a@b.c' }, answer: ANSWER }, 'fetched');
    const line = JSON.parse(out.all.join('')) as { url: string; user: { email: string }; answer: string };
    expect(line).toMatchObject({ url: 'http://localhost:8080', user: { email: 'a@b.c' }, answer: ANSWER });
  });
});

describe('a base URL with credentials (a proxy’s password)', () => {
  const PASSWORD = 'proxypass-Q7wE9rT2';

  it('the redactor hides the password of any URL, keeping the rest', () => {
    const redact = createRedactor({});
    expect(redact(`failed: http://proxyuser:${PASSWORD}@127.0.0.1:9/v1/messages`)).toBe(
      'failed: http://proxyuser:***@127.0.0.1:9/v1/messages',
    );
  });

  it('is refused before the run starts (fetch cannot send to such a URL), naming it without them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-secrets-'));
    const store = new SqliteStore(join(dir, 'journal.db'));
    const env = { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: `http://proxyuser:${PASSWORD}@127.0.0.1:9` };
    const engine = newEngine(env, store);
    const events: string[] = [];
    engine.bus.onAny((e) => events.push(JSON.stringify(e)));
    const refused = await runYaml(engine, CLAUDE_PIPELINE).catch((e: unknown) => e as ElexirionError);
    await store.close();
    expect(refused).toMatchObject({ exitCode: ExitCode.invalidInput });
    expect((refused as Error).message).toBe(
      'ANTHROPIC_BASE_URL (provider "anthropic") carries credentials (user:password@ in http://127.0.0.1:9): requests cannot be sent to such a URL',
    );
    expect(events).toEqual([]);
    expect(rawFiles(dir).includes(PASSWORD)).toBe(false);
  });
});

describe('a run with a real provider (the Anthropic fake) and a known key', () => {
  const fake = new AnthropicFake();
  beforeAll(async () => {
    await fake.start();
  });
  afterAll(async () => {
    await fake.stop();
  });

  it('leaks the key nowhere: logs, events, journal, errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-secrets-'));
    const store = new SqliteStore(join(dir, 'journal.db'));
    const env = { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.baseUrl };
    const engine = newEngine(env, store);
    const out = lines();
    const logger = createLogger({ destination: out.stream, env, level: 'debug' });
    attachLogging(engine.bus, logger);
    const events: string[] = [];
    engine.bus.onAny((e) => events.push(JSON.stringify(e)));

    const mock = await runYaml(engine, MOCK_PIPELINE, { mock: true });
    const ok = await runYaml(engine, CLAUDE_PIPELINE);
    fake.injectFault(faults.unauthorized());
    const denied = await runYaml(engine, CLAUDE_PIPELINE);
    let thrown = '';
    try {
      await runYaml(newEngine({ ANTHROPIC_BASE_URL: fake.baseUrl }, store), CLAUDE_PIPELINE);
    } catch (error) {
      thrown = `${(error as Error).message} ${(error as { hint?: string }).hint ?? ''}`;
    }
    // Before close: the journal's write-ahead log still holds every write (write-behind.ts).
    const logged = rawFiles(dir);
    await store.close();

    expect(mock.status).toBe('succeeded');
    expect(ok.status).toBe('succeeded');
    expect(denied.status).toBe('failed');
    expect(denied.error).toMatch(/401|auth|key/i);
    expect(thrown).toMatch(/ANTHROPIC_API_KEY/);
    // The key really went out, to the fake: the test would see it if anything copied it around.
    expect(JSON.stringify(fake.requests.map((r) => r.headers))).toContain(KEY);

    expect(out.all.length).toBeGreaterThan(10);
    expect(out.all.join('')).toContain('"runId"');
    for (const line of out.all) expect(line).not.toContain(KEY);
    for (const event of events) expect(event).not.toContain(KEY);
    const errors = [mock, ok, denied].flatMap((r) => [r.error ?? '', ...r.steps.map((s) => s.error ?? '')]);
    for (const message of [...errors, thrown]) expect(message).not.toContain(KEY);
    expect(readdirSync(dir)).toContain('journal.db');
    expect(logged.toString()).toContain('"step"'); // the log was read while it held writes
    for (const raw of [logged, rawFiles(dir)]) {
      expect(raw.includes('claude-call')).toBe(true); // the raw read does see the journal's text
      expect(raw.includes(KEY)).toBe(false);
    }
  });
});

/** Every byte of every file under `dir`: the database, its WAL, the journal's write-ahead logs. */
function rawFiles(dir: string): Buffer {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  return Buffer.concat(files.map((file) => readFileSync(join(file.parentPath, file.name))));
}
