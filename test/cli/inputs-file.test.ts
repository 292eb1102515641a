// `--inputs file.json` that is not a JSON object: refused with exit 2, saying what and where
// (file:line:col) in words of Elexirion's own — never the file's text (V8's messages quote it, and
// an inputs file may hold a key), never a raw errno message — and bytes that are not UTF-8 are
// refused rather than passed on to the model as U+FFFD.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonErrorPlace } from '../../src/cli/json-error-place.js';
import { parseInputs } from '../../src/cli/parse-inputs.js';
import { runMain } from './run-main.js';

const dir = mkdtempSync(join(tmpdir(), 'elexirion-inputs-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hello = join(import.meta.dirname, '..', '..', 'examples', 'hello.yaml');

function refusal(name: string, content: string | Buffer): string {
  writeFileSync(join(dir, name), content);
  try {
    parseInputs([], name, dir);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected --inputs ${name} to be refused`);
}

describe('an --inputs file that is not JSON', () => {
  it('is located at file:line:col, without quoting the file', async () => {
    const secret = 'sk-ant-api03-abcdefghijklmnop';
    writeFileSync(join(dir, 'unquoted.json'), `{\n  "name": "Ada",\n  "key": ${secret}\n}\n`);
    const result = await runMain(['run', hello, '--mock', '--db', ':memory:', '--inputs', 'unquoted.json'], {
      cwd: dir,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot read --inputs unquoted.json:3:10: not valid JSON (unexpected "s")');
    expect(result.stderr).not.toContain('sk-ant');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it.each([
    ['trailing-comma.json', '{"name": "Ada",}', ':1:16: not valid JSON (unexpected "}")'],
    ['single-quotes.json', "{'name': 'Ada'}", ':1:2: not valid JSON (unexpected "\'")'],
    ['unterminated.json', '{"name": "Ada', ':1:14: not valid JSON (unexpected end of the file)'],
    ['two-values.json', '{"a": 1}\n{"b": 2}', ':2:1: not valid JSON (unexpected "{")'],
    ['tab-in-string.json', '{"a": "x\ty"}', ':1:9: not valid JSON (unexpected control character U+0009)'],
  ])('%s', (name, content, expected) => {
    expect(refusal(name, content)).toBe(`cannot read --inputs ${name}${expected}`);
  });

  it('says an empty file, a missing one and a directory are just that', () => {
    expect(refusal('empty.json', '  \n')).toBe('cannot read --inputs empty.json: the file is empty');
    expect(() => parseInputs([], 'missing.json', dir)).toThrow(/^cannot read --inputs missing\.json: no such file$/);
    mkdirSync(join(dir, 'a-directory.json'));
    expect(() => parseInputs([], 'a-directory.json', dir)).toThrow(
      /^cannot read --inputs a-directory\.json: it is a directory$/,
    );
  });

  it('refuses bytes that are not UTF-8 at the first of them, instead of reading them as U+FFFD', () => {
    const latin1 = Buffer.concat([Buffer.from('{"name": "Ren'), Buffer.from([0xe9]), Buffer.from('e"}')]);
    expect(refusal('latin1.json', latin1)).toBe(
      'cannot read --inputs latin1.json:1:14: the file is not valid UTF-8 text',
    );
  });
});

describe('jsonErrorPlace', () => {
  it('finds nothing wrong in JSON, and the first fault in what is not', () => {
    expect(jsonErrorPlace('{"a": [1, -2.5e3, true, null, {"b": "\\u00e9\\n"}], "c": {}}')).toBeUndefined();
    expect(jsonErrorPlace('[01]')).toMatchObject({ line: 1, col: 3, found: 'unexpected "1"' });
    expect(jsonErrorPlace('{"a" 1}')).toMatchObject({ col: 6 });
    expect(jsonErrorPlace('{"a": "\\x"}')).toMatchObject({ col: 8 });
  });

  it('does not overflow the stack on a file nesting thousands of brackets', () => {
    expect(jsonErrorPlace(`${'['.repeat(100_000)}x`)).toMatchObject({ col: 100_001, found: 'unexpected "x"' });
  });
});
