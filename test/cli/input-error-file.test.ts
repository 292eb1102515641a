// The pipeline file in an input error is named as the user typed it, as its load errors name it:
// `run ok.yaml -i count=abc` said `/tmp/…/ok.yaml:4:5: input "count" must be integer`, while a
// mistake in ok.yaml itself said `ok.yaml:…` — two names for one file in one command's errors.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain } from './run-main.js';

const dir = mkdtempSync(join(tmpdir(), 'elexirion-input-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'flows'));
const PIPELINE = [
  'name: ok',
  'inputs:',
  '  count:',
  '    type: integer',
  'steps:',
  '  - { name: a, type: mock, prompt: "n={{ count }}" }',
  '',
].join('\n');
writeFileSync(join(dir, 'ok.yaml'), PIPELINE);
writeFileSync(join(dir, 'flows', 'ok.yaml'), PIPELINE);
writeFileSync(join(dir, 'bad.yaml'), PIPELINE.replace('type: integer', 'type: integr'));

const run = (file: string, ...args: string[]) =>
  runMain(['run', file, '--mock', '--db', ':memory:', ...args], { cwd: dir });

describe('an input error of `run`', () => {
  it('names the pipeline file as typed, relative as a load error does', async () => {
    const load = await run('bad.yaml');
    expect(load.code).toBe(2);
    expect(load.stderr).toMatch(/^error: bad\.yaml:4:11: /);

    const wrongType = await run('ok.yaml', '-i', 'count=abc');
    expect(wrongType.code).toBe(2);
    expect(wrongType.stderr).toContain('error: ok.yaml:4:5: input "count" must be integer, got the string "abc"');
    expect(wrongType.stderr).not.toContain(dir);

    const unknown = await run('./flows/ok.yaml', '-i', 'cuont=3');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error: ./flows/ok.yaml:3:3: unknown input "cuont"');
    expect(unknown.stderr).not.toContain(dir);
  });

  it('names it absolute when it was given absolute', async () => {
    const file = join(dir, 'ok.yaml');
    const result = await run(file, '-i', 'count=1.5');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: ${file}:4:5: input "count" must be integer`);
  });
});
