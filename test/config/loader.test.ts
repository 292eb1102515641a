import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline, loadPipelineFromString } from '../../src/config/loader.js';
import { ConfigError, type Diagnostic } from '../../src/errors.js';

/** The diagnostics a source produces (fails the test if it loads). */
function diagnosticsOf(source: string, file = 'p.yaml'): Diagnostic[] {
  try {
    loadPipelineFromString(source, file);
  } catch (error) {
    if (error instanceof ConfigError) return error.diagnostics;
    throw error;
  }
  throw new Error('expected the pipeline to be rejected');
}

const minimal = 'name: p\nsteps:\n  - { name: a, type: mock, prompt: hi }\n';

describe('loadPipelineFromString', () => {
  it('accepts timer durations up to what Node.js timers hold (596h), and any cache ttl', () => {
    const longest = `name: p\ndefaults: { timeout: 596h, retry: { max_delay: ${2 ** 31 - 1} } }\nsteps:\n  - { name: a, type: mock, prompt: hi, cache: { ttl: 2000h } }\n`;
    expect(loadPipelineFromString(longest, 'p.yaml').pipeline.defaults?.timeout).toBe('596h');
  });

  it.each([
    ['timeout: 597h', 'steps[0].timeout'],
    ['latency: 2147483.648s', 'steps[0].latency'],
    ['retry: { base_delay: 2147483648 }', 'steps[0].retry.base_delay'],
    ['timeout: 100000m', 'steps[0].timeout'],
  ])('rejects a timer duration over 2^31-1 ms at load time: %s', (setting, path) => {
    const [problem] = diagnosticsOf(`name: p\nsteps:\n  - name: a\n    type: mock\n    prompt: hi\n    ${setting}\n`);
    expect(problem).toMatchObject({ path, line: 6 });
    expect(problem?.message).toMatch(/is too long: at most 596h/);
  });

  it('returns the typed pipeline, absolute file and directory, and a locator', () => {
    const loaded = loadPipelineFromString(
      'name: p\nsteps:\n  - name: a\n    type: mock\n    prompt: hi\n',
      'dir/p.yaml',
    );
    expect(loaded.pipeline.steps[0]).toMatchObject({ name: 'a', type: 'mock' });
    expect(loaded.file).toBe(join(process.cwd(), 'dir', 'p.yaml'));
    expect(loaded.dir).toBe(join(process.cwd(), 'dir'));
    expect(loaded.locate(['steps', 0, 'prompt'])).toEqual({ line: 5, col: 13 });
    // A path that leads nowhere resolves to the nearest node that exists.
    expect(loaded.locate(['steps', 0, 'model'])).toEqual({ line: 3, col: 5 });
  });

  it('hashes the data, not the text: formatting, key order and comments do not change it', () => {
    const a = loadPipelineFromString(minimal, 'a.yaml').hash;
    const b = loadPipelineFromString(
      '# reformatted\nsteps:\n  - prompt: hi   # same\n    type: mock\n    name: a\nname: p\n',
      'b.yaml',
    ).hash;
    const c = loadPipelineFromString(minimal.replace('prompt: hi', 'prompt: hello'), 'c.yaml').hash;
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });

  it('reports every problem of the file at once, in source order, with paths and hints', () => {
    const diagnostics = diagnosticsOf(
      [
        'name: p',
        'stepz: 1',
        'steps:',
        '  - name: a',
        '    type: mock',
        '    promt: hi',
        '    retry: { max_attempts: 0 }',
        '  - name: b',
        '    type: gemeni',
      ].join('\n'),
    );
    expect(diagnostics.map((d) => [d.line, d.col, d.path])).toEqual([
      [2, 1, 'stepz'],
      [6, 5, 'steps[0].promt'],
      [7, 28, 'steps[0].retry.max_attempts'],
      [9, 11, 'steps[1].type'],
    ]);
    expect(diagnostics.every((d) => d.file === 'p.yaml' && d.hint)).toBe(true);
    expect(diagnostics[3]?.hint).toContain('did you mean "gemini"?');
  });

  it('lists the allowed keys when a misspelling is not close to any', () => {
    const [d] = diagnosticsOf('name: p\nsteps:\n  - { name: a, type: mock, prompt: hi, wibble: 1 }\n');
    expect(d?.message).toBe('unknown key "wibble"');
    expect(d?.hint).toMatch(/^the keys allowed here are: .*\bprompt\b/);
  });

  it('rejects names that are neither built-in providers nor declared with a type', () => {
    const diagnostics = diagnosticsOf(
      [
        'name: p',
        'providers:',
        '  local: { type: openai, base_url: "http://localhost:11434/v1" }',
        '  geminii: { max_concurrency: 2 }',
        'defaults: { provider: nowhere }',
        'steps:',
        '  - { name: a, type: llm, provider: local, model: llama3.1:8b, prompt: hi }',
      ].join('\n'),
    );
    expect(diagnostics.map((d) => d.message)).toEqual([
      'provider "geminii" is not a built-in provider and has no `type`',
      'unknown provider "nowhere"',
    ]);
    expect(diagnostics[0]?.hint).toContain('did you mean "gemini"?');
  });

  it('checks that step names are unique across parallel sub-steps', () => {
    const diagnostics = diagnosticsOf(
      [
        'name: p',
        'steps:',
        '  - name: fan',
        '    type: parallel',
        '    steps:',
        '      - { name: x, type: mock, prompt: a }',
        '      - { name: x, type: mock, prompt: b }',
      ].join('\n'),
    );
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ line: 7, path: 'steps[0].steps[1].name' });
  });

  it('refuses retry: and cache: on a parallel or pipeline step, which makes no call of its own', () => {
    const diagnostics = diagnosticsOf(
      [
        'name: p',
        'steps:',
        '  - name: fan',
        '    type: parallel',
        '    retry: { max_attempts: 5 }',
        '    cache: false',
        '    steps:',
        '      - { name: x, type: mock, prompt: a }',
        '  - name: child',
        '    type: pipeline',
        '    cache: false',
        '    pipeline: { name: c, steps: [{ name: y, type: mock, prompt: b }] }',
      ].join('\n'),
    );
    expect(diagnostics.map((d) => [d.path, d.line])).toEqual([
      ['steps[0].retry', 5],
      ['steps[0].cache', 6],
      ['steps[1].cache', 11],
    ]);
    expect(diagnostics[0]?.message).toMatch(/would apply to no call/);
    expect(diagnostics[0]?.hint).toMatch(/its sub-steps, or in `defaults:`/);
    // On a batch they are its items' calls' (steps/batch-item.ts): accepted.
    expect(() =>
      loadPipelineFromString(
        'name: p\nsteps:\n  - { name: b, type: batch, items: [1], cache: false, retry: { max_attempts: 2 }, step_template: { type: mock, prompt: "{{ item }}" } }\n',
        'p.yaml',
      ),
    ).not.toThrow();
  });

  it('checks settings that only make sense together', () => {
    const messages = diagnosticsOf(
      [
        'name: p',
        'inputs:',
        '  level: { type: string, enum: [low, high], default: medium }',
        '  n: { type: number, default: 1, required: true }',
        'steps:',
        '  - { name: a, type: llm, prompt: hi }',
        '  - { name: b, type: gemini_structured, prompt: hi }',
        '  - { name: c, type: gemini_function, prompt: hi }',
        '  - { name: d, type: claude }',
        '  - { name: e, type: set_variable, on_error: fallback, variables: { x: 1 } }',
        '  - { name: f, type: pipeline }',
      ].join('\n'),
    ).map((d) => d.message);
    expect(messages).toEqual([
      'the default of input "level" is not one of its enum values',
      'input "n" is required but has a default, so it can never be missing',
      'an `llm` step needs a provider',
      'a gemini_structured step needs `schema:`',
      'a gemini_function step needs `tools:`',
      'the call has neither `prompt:` nor `messages:`',
      'a set_variable step has no fallback, so `on_error: fallback` cannot apply',
      'a pipeline step needs `file:` (a pipeline file) or `pipeline:` (an inline pipeline)',
    ]);
  });

  it('checks an inline pipeline as a pipeline of its own, and the inputs given to it', () => {
    const diagnostics = diagnosticsOf(
      [
        'name: p',
        'steps:',
        '  - name: a',
        '    type: mock',
        '    prompt: hi',
        '  - name: child',
        '    type: pipeline',
        '    inputs: { txt: hello }',
        '    pipeline:',
        '      name: inner',
        '      inputs: { text: { type: string, required: true } }',
        '      steps:',
        '        - { name: a, type: mock, prompt: "{{ text }}" }',
        '        - { name: a, type: mock, prompt: again }',
      ].join('\n'),
    );
    expect(diagnostics.map((d) => d.path)).toEqual([
      'steps[1].inputs',
      'steps[1].inputs.txt',
      'steps[1].pipeline.steps[1].name',
    ]);
    expect(diagnostics[1]?.hint).toBe('did you mean "text"?');
  });

  it('reports a required child input named like an Object.prototype key when it is not given', () => {
    const diagnostics = diagnosticsOf(
      [
        'name: p',
        'steps:',
        '  - name: child',
        '    type: pipeline',
        '    inputs: {}',
        '    pipeline:',
        '      name: inner',
        '      inputs: { constructor: { type: string, required: true } }',
        '      steps:',
        '        - { name: a, type: mock, prompt: "{{ constructor }}" }',
      ].join('\n'),
    );
    expect(diagnostics.map((d) => [d.path, d.message])).toEqual([
      ['steps[0].inputs', 'the inline pipeline requires input "constructor", which is not given'],
    ]);
  });

  it('locates template errors inside literal blocks at their own line and column', () => {
    const [d] = diagnosticsOf(
      [
        'name: p',
        'steps:',
        '  - name: a',
        '    type: mock',
        '    prompt: |',
        '      first line',
        '      then {{ nope }}',
      ].join('\n'),
    );
    expect(d).toMatchObject({ line: 7, col: 15, path: 'steps[0].prompt' });
  });

  it('locates template errors in a block with an indentation indicator, its lines indented deeper', () => {
    const source = 'name: q\nsteps:\n  - name: a\n    type: mock\n    prompt: |2\n        indented {{ fcous }}\n';
    expect(diagnosticsOf(source)[0]).toMatchObject({ line: 6, col: 21, path: 'steps[0].prompt' });
    const folded =
      'name: q\nsteps:\n  - name: a\n    type: mock\n    prompt: >-\n      first line,\n      then {{ fcous }}\n';
    expect(diagnosticsOf(folded)[0]).toMatchObject({ line: 7, col: 15, path: 'steps[0].prompt' });
  });

  it('reports names {{ NAME }} cannot read at the name itself: a built-in set by a step, a Liquid literal', () => {
    const source = [
      'name: shadow',
      'inputs:',
      '  empty: { type: string, default: "the input\'s value" }',
      'steps:',
      '  - name: setv',
      '    type: set_variable',
      '    variables:',
      '      run: "my label"',
      '  - { name: use, type: mock, prompt: "{{ run }} {{ empty }}" }',
    ].join('\n');
    expect(diagnosticsOf(source).map((d) => `${d.line}:${d.col} ${d.path}: ${d.message}`)).toEqual([
      '3:3 inputs.empty: the input name "empty" is a Liquid literal: {{ empty }} is Liquid\'s empty value (printed as {}), not this input',
      '8:7 steps[0].variables.run: the variable name "run" is a built-in name of the template scope: {{ run }} reads the run (its id and pipeline), not this variable',
    ]);
  });

  it('rejects a source over the size limit before parsing it', () => {
    const started = Date.now();
    const [d] = diagnosticsOf(`name: p\n# ${'x'.repeat(1_100_000)}\n`);
    expect(d?.message).toMatch(/too large .*limit is 1000000 bytes/);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('lets users share settings with YAML merge keys', () => {
    const loaded = loadPipelineFromString(
      [
        'name: p',
        'variables:',
        '  common: &common { type: mock, latency: 5ms }',
        'steps:',
        '  - { <<: *common, name: a, prompt: hi }',
      ].join('\n'),
      'p.yaml',
    );
    expect(loaded.pipeline.steps[0]).toMatchObject({ type: 'mock', latency: '5ms', name: 'a' });
  });
});

describe('aliases and nesting that would never end', () => {
  it.each([
    ['a mapping holding itself', 'variables: &v\n  self: *v\n', 'v', '3:9'],
    ['a list holding itself', 'variables:\n  l: &l [1, [2, *l]]\n', 'l', '3:17'],
    ['a merge key into its own mapping', 'variables: &v\n  a: 1\n  b:\n    <<: *v\n', 'v', '5:9'],
    ['an alias as a key of its own mapping', 'variables: &m\n  ? *m\n  : 1\n', 'm', '3:5'],
    ['an anchor name used again around the alias', 'variables:\n  a: &v [1]\n  b: &v [ *v ]\n', 'v', '4:11'],
    ['steps that run themselves', 'steps: &s\n  - { name: a, type: parallel, steps: *s }\n', 's', '3:39'],
  ])('refuses an alias inside its own anchor (%s) at the alias, as a problem of the file', (_, yaml, name, at) => {
    const source = `name: p\n${yaml}${yaml.startsWith('steps') ? '' : 'steps:\n  - { name: a, type: mock, prompt: hi }\n'}`;
    const diagnostics = diagnosticsOf(source);
    expect(diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`)).toEqual([
      `${at}: the alias *${name} is inside the value it repeats (&${name}): that value would contain itself without end`,
    ]);
    expect(diagnostics[0]?.hint).toContain(`move *${name} out of the &${name} value`);
  });

  it('accepts an alias to an earlier anchor of the same name, and one used twice', () => {
    const loaded = loadPipelineFromString(
      'name: p\nvariables:\n  a: &v [1]\n  b: [ *v, &v [2], *v ]\nsteps:\n  - { name: a, type: mock, prompt: hi }\n',
      'p.yaml',
    );
    expect(loaded.pipeline.variables).toEqual({ a: [1], b: [[1], [2], [2]] });
  });

  it('says that lists nested too deeply to read are, rather than blaming the indentation', () => {
    const depth = 5000;
    const [d, ...rest] = diagnosticsOf(`name: p\nvariables:\n  a: ${'['.repeat(depth)}${']'.repeat(depth)}\n`);
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ line: 3, message: 'the document nests lists or mappings too deeply to be read' });
    expect(d?.hint).toContain('flatten');
  });
});

describe('loadPipeline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elexirion-loader-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file and resolves relative paths against it', async () => {
    writeFileSync(join(dir, 'child.yaml'), minimal);
    writeFileSync(
      join(dir, 'parent.yaml'),
      'name: parent\nsteps:\n  - { name: c, type: pipeline, file: child.yaml }\n',
    );
    const loaded = await loadPipeline('parent.yaml', { cwd: dir });
    expect(loaded.file).toBe(join(dir, 'parent.yaml'));
    expect(loaded.pipeline.name).toBe('parent');
  });

  it('says clearly when the file does not exist', async () => {
    const error = await loadPipeline('missing.yaml', { cwd: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).diagnostics[0]).toMatchObject({ file: 'missing.yaml', message: 'no such file' });
  });

  it('says what a path that is no pipeline file is: a directory, or not a regular file', async () => {
    mkdirSync(join(dir, 'pipelines.yaml'), { recursive: true });
    const directory = await loadPipeline('pipelines.yaml', { cwd: dir }).catch((e: ConfigError) => e);
    expect((directory as ConfigError).diagnostics[0]).toMatchObject({
      message: 'is a directory, not a pipeline file',
      hint: 'give the path of a pipeline .yaml file',
    });
    const device = await loadPipeline('/dev/null').catch((e: ConfigError) => e);
    expect((device as ConfigError).diagnostics[0]?.message).toBe(
      'is not a regular file (a device, a FIFO or a socket), not a pipeline file',
    );
  });

  it('refuses invalid UTF-8 and NUL bytes with the position of the first NUL', async () => {
    writeFileSync(join(dir, 'latin1.yaml'), Buffer.from('name: caf\xe9\n', 'latin1'));
    writeFileSync(join(dir, 'nul.yaml'), Buffer.from('name: p\nsteps: a\u0000b\n'));
    const latin1 = (await loadPipeline(join(dir, 'latin1.yaml')).catch((e: ConfigError) => e)) as ConfigError;
    const nul = (await loadPipeline(join(dir, 'nul.yaml')).catch((e: ConfigError) => e)) as ConfigError;
    expect(latin1.diagnostics[0]?.message).toContain('not valid UTF-8');
    expect(nul.diagnostics[0]).toMatchObject({ line: 2, col: 9 });
  });
});

describe('schema messages', () => {
  it('says why a missing name is needed: by the pipeline, or by a step', () => {
    const diagnostics = diagnosticsOf(
      [
        'steps:',
        '  - { type: mock, prompt: hi }',
        '  - name: inline',
        '    type: pipeline',
        '    pipeline: { steps: [{ name: c, type: mock, prompt: hi }] }',
      ].join('\n'),
    );
    expect(diagnostics.map((d) => [d.path, d.hint])).toEqual([
      [
        'name',
        'add `name:` (a string); every pipeline needs a name, e.g. `name: my-pipeline` (lower-case letters, digits, - and _)',
      ],
      ['steps[0].name', 'add `name:` (a string); every step needs a unique name'],
      [
        'steps[1].pipeline.name',
        'add `name:` (a string); every pipeline needs a name, e.g. `name: my-pipeline` (lower-case letters, digits, - and _)',
      ],
    ]);
  });

  it('says expected vs got, with a hint fitted to the mistake', () => {
    const diagnostics = diagnosticsOf(
      [
        'name: 123',
        'inputs:',
        '  topic: string',
        'steps:',
        '  - just-a-string',
        '  - { name: a, type: claude, prompt: hi, fallback: [{ provider: gemini, modle: x }] }',
        '  - { name: b, type: mock, prompt: hi, tools: [read_fil] }',
      ].join('\n'),
    );
    expect(diagnostics.map((d) => [d.path, d.message, d.hint])).toEqual([
      ['name', 'expected a string, got the number 123', 'put it in quotes to make it text: "123"'],
      [
        'inputs.topic',
        'expected a mapping (key: value), got the string "string"',
        'declare an input as a mapping: topic: { type: string }',
      ],
      [
        'steps[0]',
        'expected a mapping (key: value), got the string "just-a-string"',
        'write key: value pairs, indented under this key (or { key: value })',
      ],
      ['steps[1].fallback[0].modle', 'unknown key "modle"', 'did you mean "model"?'],
      [
        'steps[2].tools[0]',
        'the string "read_fil" is not allowed here: expected one of read_file, list_files',
        'did you mean "read_file"?',
      ],
    ]);
  });
});
