// What the CLI prints and leaves behind holds no secret of its environment: not when a model's answer
// quotes one (it is redacted where it comes back from the provider: run, --json, --stream, runs show,
// the journal's files), and not when anything else it prints does — an output echoing an input, a
// run journaled before answers were redacted, an error naming a path: stdout and stderr are redacted
// as they are written (src/cli/redacting-stream.ts).
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closePools } from '../../src/resilience/connection-pool.js';
import { REDACTED } from '../../src/telemetry/redact.js';
import { AnthropicFake } from '../fakes/index.js';
import { runMain } from './run-main.js';

const API_KEY = 'planted-an-5e6f7a8b9c0d';
const TOKEN = 'dt-planted-7h8j9k0l';

/** Every byte of every file under `dir` (the journal, its WAL and write-ahead logs). */
function rawFiles(dir: string): string {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return files.map((f) => readFileSync(join(f.parentPath, f.name)).toString('latin1')).join('\n');
}

function expectNoSecret(texts: string[]): void {
  for (const text of texts) for (const secret of [API_KEY, TOKEN]) expect(text.includes(secret)).toBe(false);
}

describe('a model answer quoting a secret, through the CLI', () => {
  const fake = new AnthropicFake();
  beforeAll(async () => {
    await fake.start();
  });
  afterAll(async () => {
    await fake.stop();
    await closePools();
  });

  it('reaches no output of run, run --json, run --stream, runs show, nor the journal files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-answer-secrets-'));
    writeFileSync(
      join(dir, 'p.yaml'),
      'name: p\nsteps:\n  - { name: env, type: claude, model: claude-haiku-4-5, prompt: "Print .env", cache: false }\n' +
        'outputs: { env: "{{ steps.env.output }}" }\n',
    );
    const env = { NO_COLOR: '1', ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: fake.baseUrl, DEPLOY_TOKEN: TOKEN };
    const cli = (...args: string[]) => runMain([...args, '--db', 'j.db'], { cwd: dir, env });
    const answer = { text: `ANTHROPIC_API_KEY=${API_KEY}\nDEPLOY_TOKEN=${TOKEN}\nREGION=eu-west-1`, chunks: 13 };
    fake.queueAnswers(answer, answer, answer);

    const runs = [
      await cli('run', 'p.yaml'),
      await cli('run', 'p.yaml', '--json'),
      await cli('run', 'p.yaml', '--stream'),
    ];
    const id = JSON.parse(runs[1]?.stdout ?? '').run_id as string;
    const shown = [await cli('runs', 'show', id), await cli('runs', 'show', id, '--json')];
    const outputs = [...runs, ...shown];

    expect(outputs.map((o) => o.code)).toEqual([0, 0, 0, 0, 0]);
    expect(JSON.parse(runs[1]?.stdout ?? '').outputs.env).toBe(
      `ANTHROPIC_API_KEY=${REDACTED}\nDEPLOY_TOKEN=${REDACTED}\nREGION=eu-west-1`,
    );
    expect(runs[2]?.stdout).toContain(`DEPLOY_TOKEN=${REDACTED}`); // the streamed text
    expect(fake.requests).toHaveLength(3);
    expectNoSecret([...outputs.flatMap((o) => [o.stdout, o.stderr]), rawFiles(dir)]);
  });
});

describe('the CLI’s own stdout and stderr', () => {
  const env = { NO_COLOR: '1', DEPLOY_TOKEN: TOKEN };

  it('redact a secret whatever prints it: an output echoing an input, runs show, --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-cli-secrets-'));
    writeFileSync(
      join(dir, 'p.yaml'),
      'name: p\ninputs: { note: { type: string } }\nsteps:\n  - { name: say, type: mock, prompt: "{{ inputs.note }}" }\n' +
        'outputs: { note: "{{ inputs.note }}" }\n',
    );
    const cli = (...args: string[]) => runMain([...args, '--db', 'j.db'], { cwd: dir, env });
    const note = `deploy with ${TOKEN}`;
    const json = await cli('run', 'p.yaml', '--mock', '--json', '--input', `note=${note}`);
    const id = JSON.parse(json.stdout).run_id as string;
    const outputs = [
      json,
      await cli('run', 'p.yaml', '--mock', '--input', `note=${note}`),
      await cli('runs', 'show', id),
      await cli('runs', 'show', id, '--json'),
    ];
    expect(outputs.map((o) => o.code)).toEqual([0, 0, 0, 0]);
    expect(JSON.parse(json.stdout).outputs.note).toBe(`deploy with ${REDACTED}`);
    expectNoSecret(outputs.flatMap((o) => [o.stdout, o.stderr]));
  });

  it('redact a secret in an error message, on stderr and in the --json error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-cli-secrets-'));
    const failed = await runMain(['run', `${TOKEN}.yaml`, '--json', '--db', 'j.db'], { cwd: dir, env });
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain(`${REDACTED}.yaml`);
    expect(JSON.stringify(JSON.parse(failed.stdout).diagnostics)).toContain(`${REDACTED}.yaml`);
    expectNoSecret([failed.stdout, failed.stderr]);
  });
});
