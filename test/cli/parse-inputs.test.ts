// `--input key=value` and `--inputs file.json`: what the command line hands to resolveInputs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseInputs } from '../../src/cli/parse-inputs.js';
import { UsageError } from '../../src/errors.js';
import { runMain } from './run-main.js';

const dir = mkdtempSync(join(tmpdir(), 'elexirion-inputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hello = join(import.meta.dirname, '..', '..', 'examples', 'hello.yaml');

describe('parseInputs', () => {
  it('splits at the first "=" only, and lets --input win over --inputs', () => {
    writeFileSync(join(dir, 'in.json'), '{"url": "from-file", "n": 3}');
    expect(parseInputs(['url=https://x.test/?a=1&b=2', 'empty='], 'in.json', dir)).toEqual({
      url: 'https://x.test/?a=1&b=2',
      n: 3,
      empty: '',
    });
  });

  it('reads an --inputs file that starts with a byte order mark', () => {
    writeFileSync(join(dir, 'bom.json'), '\uFEFF{"topic": "owls", "n": 3}');
    expect(parseInputs([], 'bom.json', dir)).toEqual({ topic: 'owls', n: 3 });
    writeFileSync(join(dir, 'bom-inside.json'), '{"topic": "\uFEFFowls"}');
    expect(parseInputs([], 'bom-inside.json', dir)).toEqual({ topic: '\uFEFFowls' }); // only a leading one
  });

  it('refuses a pair without a key, and a file that is not one JSON object', () => {
    expect(() => parseInputs(['=v'], undefined, dir)).toThrow(UsageError);
    expect(() => parseInputs(['novalue'], undefined, dir)).toThrow(/is not key=value/);
    writeFileSync(join(dir, 'list.json'), '[1, 2]');
    expect(() => parseInputs([], 'list.json', dir)).toThrow(/must hold a JSON object/);
    expect(() => parseInputs([], 'missing.json', dir)).toThrow(/cannot read --inputs missing\.json/);
  });

  it('keeps a key named __proto__ as an input (so that it is refused as unknown), never as a prototype', () => {
    writeFileSync(join(dir, 'proto.json'), '{"__proto__": {"name": "Eve"}}');
    const fromFile = parseInputs([], 'proto.json', dir);
    expect(Object.getPrototypeOf(fromFile)).toBe(Object.prototype);
    expect(Object.keys(fromFile)).toEqual(['__proto__']);
    const fromFlag = parseInputs(['__proto__=x'], undefined, dir);
    expect(Object.keys(fromFlag)).toEqual(['__proto__']);
  });

  it('`run` refuses --input __proto__=… and --inputs {"__proto__": …} instead of dropping them silently', async () => {
    const flag = await runMain(['run', hello, '--mock', '--db', ':memory:', '--input', '__proto__=x'], { cwd: dir });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('unknown input "__proto__"');
    const file = await runMain(['run', hello, '--mock', '--db', ':memory:', '--inputs', 'proto.json'], { cwd: dir });
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('unknown input "__proto__"');
  });
});

describe('--help of the commands that take --input', () => {
  it.each(['run', 'chain'])('%s --help shows no `(default: [])` after --input', async (command) => {
    const help = await runMain([command, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/-i, --input <key=value>/);
    expect(help.stdout).not.toContain('(default: [])');
  });
});

describe('--input given twice, or without "="', () => {
  it('refuses the same key twice instead of keeping the last one unseen', () => {
    expect(() => parseInputs(['files=a.ts', 'files=b.ts'], undefined, dir)).toThrow(
      /--input "files" is given more than once/,
    );
  });

  it('says how to give a list, exit 2, in JSON too', async () => {
    const args = ['run', hello, '--mock', '--db', ':memory:', '-i', 'name=Ada', '-i', 'name=Bob', '--json'];
    const result = await runMain(args, { cwd: dir });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      error: '--input "name" is given more than once',
      hint: `give it once; a list is one JSON value: --input 'name=["a", "b"]'`,
      exit_code: 2,
    });
  });

  it('a key without "=" is told the form with its own name', () => {
    expect(() => parseInputs(['topic'], undefined, dir)).toThrow(
      expect.objectContaining({ hint: 'write --input topic=VALUE (e.g. --input topic=durability)' }),
    );
    expect(() => parseInputs(['=x'], undefined, dir)).toThrow(
      expect.objectContaining({ hint: 'name the input before the "=": e.g. --input topic=durability' }),
    );
  });

  it('--inputs and one --input of the same key stay allowed: --input wins', () => {
    writeFileSync(join(dir, 'one.json'), '{"n": 1}');
    expect(parseInputs(['n=2'], 'one.json', dir)).toEqual({ n: '2' });
  });
});
