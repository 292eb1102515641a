// A key planted in the environment, and echoed back by a vendor's 401 body (as OpenAI's "Incorrect
// API key provided: …" does: plain, as a Bearer header, percent-encoded), reaches none of what the
// CLI leaves behind: stdout and stderr (plain, --json, --stream), `runs show --json`, the journal's
// files read raw, the cassette. The keys are not shaped like keys (`sk-…`): only the scrubbing of
// the provider's own key can hide them, not the redactor's patterns.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicFake, type FakeServer, GeminiFake, OpenAIFake } from '../fakes/index.js';
import { runMain } from './run-main.js';

const KEYS = {
  openai: 'planted-oa-9f8e7d6c5b4a3',
  gemini: 'planted-ge-1a2b3c4d5e6f',
  claude: 'planted-an-5e6f7a8b9c0d',
};
const MODELS = { openai: 'gpt-4o-mini', gemini: 'gemini-2.5-flash', claude: 'claude-haiku-4-5' };

/** Every byte of every file under `dir` (journal, its logs, the cassette). */
function rawFiles(dir: string): string {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return files.map((f) => readFileSync(join(f.parentPath, f.name)).toString('latin1')).join('\n');
}

describe('a key the vendor echoes back in its error', () => {
  const fakes = { openai: new OpenAIFake(), gemini: new GeminiFake(), claude: new AnthropicFake() };
  beforeAll(async () => {
    for (const fake of Object.values(fakes)) await fake.start();
  });
  afterAll(async () => {
    for (const fake of Object.values(fakes)) await fake.stop();
  });

  for (const type of ['openai', 'gemini', 'claude'] as const) {
    it(`is in no sink of the CLI (${type})`, async () => {
      const fake: FakeServer = fakes[type];
      const key = KEYS[type];
      const dir = mkdtempSync(join(tmpdir(), 'elexirion-secret-sinks-'));
      writeFileSync(
        join(dir, 'p.yaml'),
        `name: p\nsteps:\n  - { name: ask, type: ${type}, model: ${MODELS[type]}, prompt: hi, cache: false, retry: { max_attempts: 1 } }\n`,
      );
      const env = {
        NO_COLOR: '1',
        OPENAI_API_KEY: KEYS.openai,
        OPENAI_BASE_URL: `${fakes.openai.baseUrl}/v1`,
        GEMINI_API_KEY: KEYS.gemini,
        GOOGLE_GEMINI_BASE_URL: fakes.gemini.baseUrl,
        ANTHROPIC_API_KEY: KEYS.claude,
        ANTHROPIC_BASE_URL: fakes.claude.baseUrl,
      };
      const run = (...more: string[]) => runMain(['run', 'p.yaml', '--db', 'j.db', ...more], { cwd: dir, env });

      const outputs = [await run('--record', 'c.jsonl')]; // answered: the cassette holds a call
      fake.setFaultMode({
        kind: 'status',
        status: 401,
        message: `Incorrect API key provided: ${key}. Authorization: Bearer ${key}; key=${encodeURIComponent(key)}`,
      });
      try {
        outputs.push(await run('--json', '--stream'), await run('--record', 'c2.jsonl'));
      } finally {
        fake.setFaultMode(null);
      }
      outputs.push(await runMain(['runs', '--db', 'j.db', '--json'], { cwd: dir, env }));

      expect(outputs.map((o) => o.code)).toEqual([0, 1, 1, 0]);
      expect(outputs[1]?.stdout).toMatch(/401|UNAUTHENTICATED/); // the vendor's refusal is told…
      expect(JSON.stringify(fake.requests.map((r) => r.headers))).toContain(key); // …to a request that sent the key
      const everything = [...outputs.flatMap((o) => [o.stdout, o.stderr]), rawFiles(dir)].join('\n');
      expect(everything).toContain('"key"'); // the cassette was read
      expect(everything).not.toContain(key);
    });
  }
});
