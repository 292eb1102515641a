// `elexirion serve`'s stderr is its JSON log: Node's warnings and what libraries print with
// console.warn / console.error go through the logger (one JSON object per line, redacted), never
// around it as plain text. A real process (the built CLI): Node's own warning printer is only there.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startServe } from '../browser/serve-process.js';

const TOKEN = 'log-stream-test-token-0123';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const GATEWAY_SECRET = 'gw-secret-Xq81mPz4';
const URL_PASSWORD = 'url-pass-Kd93nV';

/** Two pipelines declaring provider `stand` with other gate settings: the engine warns of it. */
const gated = (n: number) => `name: gated${n}
providers:
  stand: { type: mock, max_concurrency: ${n} }
steps:
  - { name: s, type: llm, provider: stand, model: m, prompt: "hi ${n}" }
`;

/**
 * Preloaded into the server (NODE_OPTIONS=--import): on SIGUSR2 it prints as a library in the
 * process would — a warning, an SDK's console.warn notice, a console.error of an Error — each with a
 * secret in it.
 */
const PRELOAD = `process.on('SIGUSR2', () => {
  process.emitWarning('proxy https://bob:${URL_PASSWORD}@proxy.example/v1 refused', { code: 'TEST_WARNING' });
  console.warn('The model %s is deprecated.\\nUse another; gateway key %s', 'claude-old', process.env.GATEWAY_SECRET);
  console.error(new Error('vendor said: bad key ${GATEWAY_SECRET}'));
});
`;

async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('elexirion serve: the JSON log on stderr', () => {
  it('logs warnings and console.warn / console.error as redacted JSON lines, never as plain text', async () => {
    const root = mkdtempSync(join(tmpdir(), 'elexirion-log-stream-'));
    writeFileSync(join(root, 'gated2.yaml'), gated(2));
    writeFileSync(join(root, 'gated3.yaml'), gated(3));
    const preload = join(root, 'preload.mjs');
    writeFileSync(preload, PRELOAD);
    const serve = await startServe(['--root', root, '--db', join(root, 'journal.db')], {
      ELEXIRION_TOKEN: TOKEN,
      GATEWAY_SECRET,
      NODE_OPTIONS: `--import=${pathToFileURL(preload).href}`,
    });
    let code: number | null | undefined;
    try {
      for (const file of ['gated2.yaml', 'gated3.yaml']) {
        const submitted = await fetch(`${serve.url}/runs`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ file }),
        });
        expect(submitted.status).toBe(202);
        const { run_id } = (await submitted.json()) as { run_id: string };
        await waitFor(async () => {
          const run = (await (await fetch(`${serve.url}/runs/${run_id}`, { headers: auth })).json()) as {
            status: string;
          };
          return run.status === 'succeeded';
        }, `run ${file}`);
      }
      serve.child.kill('SIGUSR2');
      await waitFor(() => serve.stderr().includes('vendor said'), 'the console.error line');
    } finally {
      code = await serve.stop();
    }
    expect(code).toBe(0);

    const lines = serve.stderr().trimEnd().split('\n');
    const logged = lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`a stderr line is not JSON: ${line}`);
      }
    });
    const warnings = logged.filter((l) => l.event === 'process.warning');
    expect(warnings.map((w) => [w.level, w.code])).toEqual([
      ['warn', 'ELEXIRION_GATE_CONFIGURATIONS'],
      ['warn', 'TEST_WARNING'],
    ]);
    expect(warnings[0]?.msg).toContain('provider "stand" is declared with other gate settings');
    expect(warnings[1]?.msg).toBe('proxy https://bob:***@proxy.example/v1 refused');
    const warned = logged.find((l) => l.event === 'console.warn');
    expect(warned?.level).toBe('warn');
    expect(warned?.msg).toBe('The model claude-old is deprecated.\nUse another; gateway key [REDACTED]');
    const errored = logged.find((l) => l.event === 'console.error');
    expect(errored?.level).toBe('error');
    expect(errored?.msg).toMatch(/^Error: vendor said: bad key \[REDACTED\]\n\s+at /);
    const text = serve.stderr();
    expect(text).not.toContain(GATEWAY_SECRET);
    expect(text).not.toContain(URL_PASSWORD);
  }, 40_000);
});
