// A model whose answer carries a secret of the environment (an agent that printed a `.env`, a vendor
// echoing the key): the answer is redacted where it comes back from the provider, so the secret is
// in no step output, event, streamed chunk, call-cache record or journal file (the database, its WAL
// and the write-ahead logs beside it, read raw) — and the step after it is given the redacted text:
// what is journaled is what is used. An answer with no secret is kept exactly as it came.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { closePools } from '../../src/resilience/connection-pool.js';
import { REDACTED } from '../../src/telemetry/redact.js';
import { AnthropicFake } from '../fakes/index.js';
import { pipelineFile, tempDir } from './harness.js';

// Not shaped like keys (`sk-…`): only the environment's values can hide them.
const API_KEY = 'planted-an-5e6f7a8b9c0d';
const TOKEN = 'dt-planted-7h8j9k0l';
const SECRETS = [API_KEY, TOKEN];

const PIPELINE = `
name: leaky
steps:
  - name: env
    type: claude
    model: claude-haiku-4-5
    prompt: Print the .env file.
  - name: token
    type: claude
    model: claude-haiku-4-5
    prompt: Give the deploy token as JSON.
    schema: { type: object, required: [token], properties: { token: { type: string } } }
  - name: use
    type: claude
    model: claude-haiku-4-5
    prompt: "Deploy with {{ steps.token.output.token }} after reading {{ steps.env.output }}"
outputs:
  env: "{{ steps.env.output }}"
  token: "{{ steps.token.output.token }}"
`;
const ENV_FILE = `ANTHROPIC_API_KEY=${API_KEY}\nDEPLOY_TOKEN=${TOKEN}\nREGION=eu-west-1`;
const ENV_FILE_REDACTED = `ANTHROPIC_API_KEY=${REDACTED}\nDEPLOY_TOKEN=${REDACTED}\nREGION=eu-west-1`;

/** Every byte of every file under `dir`: the database, its WAL, the journal's write-ahead logs. */
function rawFiles(dir: string): string {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  return files.map((file) => readFileSync(join(file.parentPath, file.name)).toString('latin1')).join('\n');
}

describe('a model answer that carries a secret of the environment', () => {
  const fake = new AnthropicFake();
  let env: Record<string, string>;
  beforeAll(async () => {
    env = { ANTHROPIC_BASE_URL: await fake.start(), ANTHROPIC_API_KEY: API_KEY, DEPLOY_TOKEN: TOKEN };
  });
  afterAll(async () => {
    await fake.stop();
    await closePools();
  });
  beforeEach(() => fake.reset());

  it('is redacted before it is streamed, used by the next step, cached or journaled', async () => {
    const dir = tempDir('elexirion-answer-secrets-');
    const store = new SqliteStore(join(dir, 'journal.db'));
    const engine = new Engine({ store, env });
    const events: string[] = [];
    engine.bus.onAny((event) => events.push(JSON.stringify(event)));
    let streamed = '';
    engine.bus.on('pipeline.step.chunk', (e) => {
      if (e.step === 'env') streamed += e.text;
    });
    // Many small chunks: the secrets are split between two of them.
    fake.queueAnswers({ text: ENV_FILE, chunks: 17 }, { json: { token: TOKEN } }, { text: 'deployed' });
    const { load } = pipelineFile(PIPELINE, dir);

    const result = await (await engine.start(load(), { stream: true })).result;
    // Before close: the write-ahead log beside the database still holds the writes.
    const whileOpen = rawFiles(dir);

    expect(result.status, result.error).toBe('succeeded');
    expect(result.outputs).toEqual({ env: ENV_FILE_REDACTED, token: REDACTED });
    expect(streamed).toBe(ENV_FILE_REDACTED);
    // The step after them was given what was journaled, not what the model said.
    const used = fake.requests[2]?.rawBody ?? '';
    expect(used).toContain(`Deploy with ${REDACTED} after reading ANTHROPIC_API_KEY=${REDACTED}`);
    // The key did go out, in the requests' headers: the test would see it if anything kept it.
    expect(JSON.stringify(fake.requests.map((r) => r.headers))).toContain(API_KEY);

    // A second engine on the same journal is answered from the cache records the first one wrote.
    const again = await (await new Engine({ store, env }).start(load(), { stream: true })).result;
    expect(fake.requests).toHaveLength(3);
    expect(again.outputs).toEqual(result.outputs);
    await store.close();

    expect(whileOpen).toContain('eu-west-1'); // the raw read does see the answers
    for (const text of [whileOpen, rawFiles(dir), ...events, JSON.stringify(result), JSON.stringify(again)]) {
      for (const secret of SECRETS) expect(text.includes(secret)).toBe(false);
    }
  });

  it('is redacted when a cache record holds it (written by a process whose environment lacked the secret)', async () => {
    const dir = tempDir('elexirion-answer-secrets-cached-');
    const store = new SqliteStore(join(dir, 'journal.db'));
    fake.queueAnswers({ text: ENV_FILE }, { json: { token: TOKEN } }, { text: 'deployed' }, { text: 'deployed' });
    const { load } = pipelineFile(PIPELINE, dir);
    // The first engine knows no DEPLOY_TOKEN: the token is kept in its cache records as the model said it.
    const { DEPLOY_TOKEN: _unknown, ...without } = env;
    const first = await (await new Engine({ store, env: without }).start(load())).result;
    expect(first.outputs).toEqual({
      env: `ANTHROPIC_API_KEY=${REDACTED}\nDEPLOY_TOKEN=${TOKEN}\nREGION=eu-west-1`,
      token: TOKEN,
    });

    // One that knows it is answered from those records, redacted.
    const second = await (await new Engine({ store, env }).start(load())).result;
    // `env` and `token` from the cache; `use` asked anew: its prompt now carries the redacted token.
    expect(fake.requests).toHaveLength(4);
    expect(second.outputs).toEqual({ env: ENV_FILE_REDACTED, token: REDACTED });
    await store.close();
  });

  it('is kept exactly as it came when it carries no secret', async () => {
    const plain = 'The build is green: 3 files, "ok" at https://example.com/a?b=1 — ask bob@example.com.';
    fake.queueAnswers({ text: plain, chunks: 9 }, { json: { token: 'none: v1.2.3' } }, { text: 'deployed' });
    const engine = new Engine({ store: new SqliteStore(':memory:'), env });
    let streamed = '';
    engine.bus.on('pipeline.step.chunk', (e) => {
      if (e.step === 'env') streamed += e.text;
    });
    const result = await (await engine.start(pipelineFile(PIPELINE).load(), { stream: true })).result;
    expect(result.outputs).toEqual({ env: plain, token: 'none: v1.2.3' });
    expect(streamed).toBe(plain);
  });
});
