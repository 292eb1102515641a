import { describe, expect, it } from 'vitest';
import { resolveInputs } from '../../src/config/inputs.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { ConfigError } from '../../src/errors.js';

const loaded = loadPipelineFromString(
  [
    'name: p',
    'inputs:',
    '  topic: { type: string, required: true }',
    '  count: { type: integer, default: 3 }',
    '  ratio: { type: number }',
    '  verbose: { type: boolean, default: false }',
    '  files: { type: array, default: [] }',
    '  options: { type: object, default: { depth: 1 } }',
    '  tone: { type: string, enum: [formal, casual], default: formal }',
    'steps:',
    '  - { name: a, type: mock, prompt: "{{ topic }}" }',
  ].join('\n'),
  'p.yaml',
);

function errorOf(given: Record<string, unknown>): ConfigError {
  try {
    resolveInputs(loaded, given);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the inputs to be rejected');
}

describe('resolveInputs', () => {
  it('applies defaults, and gives an absent optional input as null', () => {
    expect(resolveInputs(loaded, { topic: 'owls' })).toEqual({
      topic: 'owls',
      count: 3,
      ratio: null,
      verbose: false,
      files: [],
      options: { depth: 1 },
      tone: 'formal',
    });
  });

  it('takes a null value as not given: the default, else null, and "missing" when required', () => {
    // null is what a skipped step's output is: a chain link or a pipeline step passes it on, and an
    // API body or --inputs file may hold it. It was refused ("must be integer, got null").
    const given = JSON.parse('{"topic": "x", "count": null, "ratio": null, "files": null, "tone": null}');
    expect(resolveInputs(loaded, given)).toEqual({
      topic: 'x',
      count: 3,
      ratio: null,
      verbose: false,
      files: [],
      options: { depth: 1 },
      tone: 'formal',
    });
    expect(errorOf({ topic: null }).diagnostics.map((d) => d.message)).toEqual([
      'missing required input "topic" (string)',
    ]);
  });

  it('does not share default objects between runs', () => {
    const first = resolveInputs(loaded, { topic: 'a' });
    (first.files as unknown[]).push('mutated');
    expect(resolveInputs(loaded, { topic: 'b' }).files).toEqual([]);
  });

  it('reads command-line strings as the declared types', () => {
    const inputs = resolveInputs(loaded, {
      topic: '42',
      count: '7',
      ratio: '0.25',
      verbose: 'true',
      files: '["a.ts","b.ts"]',
      options: '{"depth":2}',
      tone: 'casual',
    });
    expect(inputs).toEqual({
      topic: '42',
      count: 7,
      ratio: 0.25,
      verbose: true,
      files: ['a.ts', 'b.ts'],
      options: { depth: 2 },
      tone: 'casual',
    });
  });

  it('reports every problem at once, at the declaration, with a hint', () => {
    const error = errorOf({ count: '2.5', verbose: 'yes', files: '[oops', tone: 'rude', topc: 'x' });
    const byPath = Object.fromEntries(error.diagnostics.map((d) => [d.path, d]));
    expect(Object.keys(byPath).sort()).toEqual([
      'inputs.count',
      'inputs.files',
      'inputs.tone',
      'inputs.topc',
      'inputs.topic',
      'inputs.verbose',
    ]);
    // The file as the loader was given it, as its load-time diagnostics name it (not absolute).
    expect(byPath['inputs.topic']).toMatchObject({ file: 'p.yaml', line: 3, col: 10 });
    expect(byPath['inputs.topic']?.message).toBe('missing required input "topic" (string)');
    expect(byPath['inputs.topc']?.hint).toBe('did you mean "topic"?');
    expect(byPath['inputs.count']?.message).toBe('input "count" must be integer, got the string "2.5"');
    expect(byPath['inputs.tone']?.hint).toBe('allowed: "formal", "casual"');
    expect(error.exitCode).toBe(2);
  });

  it('accepts typed values as they are (JSON or API bodies) and rejects wrong ones', () => {
    expect(resolveInputs(loaded, { topic: 'x', count: 5, files: ['a'] })).toMatchObject({ count: 5, files: ['a'] });
    expect(errorOf({ topic: 'x', files: { not: 'a list' } }).diagnostics[0]?.message).toBe(
      'input "files" must be array, got a mapping',
    );
  });

  it('reads numbers typed in as decimal only: 0x3, 0b11, 0o7 are refused, not read as 3, 3, 7', () => {
    for (const text of ['0x3', '0b11', '0o7', '', ' ', 'Infinity', '1_000']) {
      expect(errorOf({ topic: 'x', count: text }).diagnostics[0]?.message).toBe(
        `input "count" must be integer, got the string ${JSON.stringify(text)}`,
      );
    }
    expect(errorOf({ topic: 'x', ratio: '0x1p3' }).diagnostics[0]?.path).toBe('inputs.ratio');
    const read = (count: string, ratio: string) => resolveInputs(loaded, { topic: 'x', count, ratio });
    expect(read('3', '0.5')).toMatchObject({ count: 3, ratio: 0.5 });
    expect(read(' -2 ', '.5')).toMatchObject({ count: -2, ratio: 0.5 });
    expect(read('1e3', '+2.5E-1')).toMatchObject({ count: 1000, ratio: 0.25 });
    expect(read('007', '3.')).toMatchObject({ count: 7, ratio: 3 });
  });

  it('refuses an input nested deeper than the journal can write (it was an internal error)', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 5_000; i++) deep = [deep];
    const error = errorOf({ topic: 't', options: { a: deep } });
    expect(error.diagnostics[0]).toMatchObject({
      path: 'inputs.options',
      message: expect.stringMatching(/nested more than 100 levels/),
    });
    // As a command-line string too (parsed as JSON), and a hundred levels are fine.
    expect(() => resolveInputs(loaded, { topic: 't', files: `${'['.repeat(200)}${']'.repeat(200)}` })).toThrow(
      /nested more than 100/,
    );
    let fine: unknown = 1;
    for (let i = 0; i < 99; i++) fine = [fine];
    expect(resolveInputs(loaded, { topic: 't', files: [fine] }).files).toEqual([fine]);
  });

  it('works on a bare Pipeline too', () => {
    expect(resolveInputs(loaded.pipeline, { topic: 't' })).toMatchObject({ topic: 't', count: 3 });
    expect(() => resolveInputs(loaded.pipeline, {})).toThrow(/missing required input "topic"/);
  });

  it('refuses undeclared inputs named like Object.prototype keys', () => {
    // JSON.parse makes `__proto__` an own key, as an API body would have it.
    const given = JSON.parse('{"topic": "x", "constructor": 1, "toString": 2, "__proto__": {"a": 1}}');
    const unknown = errorOf(given).diagnostics.map((d) => d.message);
    expect(unknown).toEqual([
      'unknown input "constructor": the pipeline does not declare it',
      'unknown input "toString": the pipeline does not declare it',
      'unknown input "__proto__": the pipeline does not declare it',
    ]);
  });

  it('reports a declared input named like an Object.prototype key as missing when not given', () => {
    const withConstructor = loadPipelineFromString(
      'name: p\ninputs:\n  constructor: { type: string, required: true }\nsteps:\n  - { name: a, type: mock, prompt: hi }\n',
      'p.yaml',
    );
    expect(() => resolveInputs(withConstructor, {})).toThrow(/missing required input "constructor"/);
  });
});
