// A missing provider key, as an HTTP caller is told of it: the hint is asked of the error for its
// audience (settings.ts builds both wordings from the variables), never reworded by reading its text.
// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are asserted on, not typed
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElexirionError, ExitCode } from '../../src/errors.js';
import { MissingKeyError, missingKeyHint } from '../../src/providers/settings.js';
import { HttpError } from '../../src/server/http-error.js';
import { httpKeyHint } from '../../src/server/key-hint.js';
import { type Harness, startHarness } from './harness.js';

const SHELL = 'export ANTHROPIC_API_KEY=… before running, or run with --mock to use no provider at all';

describe('missingKeyHint', () => {
  it('words one set of variables for the shell or for an HTTP caller', () => {
    const variables = [['ANTHROPIC_API_KEY'], ['GEMINI_API_KEY', 'GOOGLE_API_KEY'], ['ANTHROPIC_API_KEY']];
    expect(missingKeyHint(variables, 'shell')).toBe(
      'export ANTHROPIC_API_KEY=… and GEMINI_API_KEY=… (or GOOGLE_API_KEY) before running, or run with --mock to use no provider at all',
    );
    expect(missingKeyHint(variables, 'http')).toBe(
      'the server\'s environment lacks it: ask its operator to set ANTHROPIC_API_KEY=… and GEMINI_API_KEY=… (or GOOGLE_API_KEY), or send `"mock": true` to use no provider at all',
    );
  });
});

describe('httpKeyHint', () => {
  it('answers a missing key 400 with the HTTP wording, keeping the hints of the other problems', () => {
    const error = new MissingKeyError('m', [['ANTHROPIC_API_KEY']], ['add api_key_env: X to providers.p']);
    expect(error.hint).toBe(`${SHELL}; add api_key_env: X to providers.p`);
    const answered = httpKeyHint(error) as HttpError;
    expect(answered).toBeInstanceOf(HttpError);
    expect(answered.status).toBe(400);
    expect(answered.message).toBe('m');
    expect(answered.hint).toBe(
      'the server\'s environment lacks it: ask its operator to set ANTHROPIC_API_KEY=…, or send `"mock": true` to use no provider at all; add api_key_env: X to providers.p',
    );
  });

  it('leaves alone another error whose hint only reads like the shell wording (its text is not parsed)', () => {
    const other = new ElexirionError('not a key', { exitCode: ExitCode.invalidInput, hint: SHELL });
    expect(httpKeyHint(other)).toBe(other);
  });
});

describe('POST /runs with several providers lacking their keys', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('names every variable for the operator, and the other problems in their own words', async () => {
    const yaml = `name: k
providers:
  proxy: { type: anthropic, base_url: "https://proxy.example.com" }
steps:
  - { name: a, type: llm, provider: anthropic, model: m, prompt: hi }
  - { name: b, type: gemini, prompt: hi }
  - { name: c, type: llm, provider: proxy, model: m, prompt: hi }
`;
    // A file of the operator's: an inline pipeline may not name a base_url (inline-providers.ts).
    writeFileSync(join(h.root, 'pipelines', 'keys.yaml'), yaml);
    const res = await h.call('/runs', { json: { file: 'pipelines/keys.yaml' } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error).toMatch(
      /^providers "anthropic" and "gemini" have no API key: .*; provider "proxy" has a base_url/,
    );
    expect(body.hint).toBe(
      'the server\'s environment lacks it: ask its operator to set ANTHROPIC_API_KEY=… and GEMINI_API_KEY=… (or GOOGLE_API_KEY), or send `"mock": true` to use no provider at all; ' +
        "add api_key_env: ANTHROPIC_API_KEY (or the variable holding that endpoint's own key) to providers.proxy",
    );
  });
});
