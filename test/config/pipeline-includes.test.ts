// Included pipeline files (`file:` steps) are read under the top-level loader's limits — a regular
// file of at most MAX_PIPELINE_BYTES, checked before reading — and, with `root`, only inside it;
// and read as the loader reads YAML (merge keys, cyclic aliases refused).
import { mkdirSync, mkdtempSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { MAX_PIPELINE_BYTES, parseSource } from '../../src/config/yaml-source.js';
import { ConfigError } from '../../src/errors.js';
import { checkProviderKeys } from '../../src/providers/step-providers.js';
import { runMain } from '../cli/run-main.js';

// Every YAML text the loader and the include checks parse, counted (and parsed as ever).
vi.mock('../../src/config/yaml-source.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/config/yaml-source.js')>();
  return { ...actual, parseSource: vi.fn(actual.parseSource) };
});

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'elexirion-includes-')));
const includer = (file: string) =>
  `name: p\nsteps:\n  - name: child\n    type: pipeline\n    file: ${JSON.stringify(file)}\n`;

async function diagnosticsOf(file: string, options = {}): Promise<string[]> {
  try {
    await loadPipeline(join(dir, file), options);
  } catch (error) {
    if (error instanceof ConfigError) return error.diagnostics.map((d) => `${d.path}: ${d.message}`);
    throw error;
  }
  return [];
}

describe('included pipeline files', () => {
  it('refuses an included file over the size limit without reading it', async () => {
    // Valid YAML that includes its includer: read whole, it would be reported as a cycle instead.
    const padding = `# ${'x'.repeat(MAX_PIPELINE_BYTES)}\n`;
    writeFileSync(join(dir, 'big.yaml'), `${includer('main.yaml')}${padding}`);
    writeFileSync(join(dir, 'main.yaml'), includer('big.yaml'));
    const size = statSync(join(dir, 'big.yaml')).size;
    expect(await diagnosticsOf('main.yaml')).toEqual([
      `steps[0].file: pipeline file "big.yaml" is too large (${size} bytes; the limit is ${MAX_PIPELINE_BYTES} bytes)`,
    ]);
  });

  it('refuses a nested include that is not a regular file', async () => {
    mkdirSync(join(dir, 'folder.yaml'));
    writeFileSync(join(dir, 'middle.yaml'), includer('folder.yaml'));
    writeFileSync(join(dir, 'outer.yaml'), includer('middle.yaml'));
    expect(await diagnosticsOf('outer.yaml')).toEqual([
      'steps[0].file: pipeline file "folder.yaml" is not a regular file',
    ]);
  });

  it('with `root`, refuses the file itself and nested includes outside it', async () => {
    const root = join(dir, 'root');
    mkdirSync(root);
    writeFileSync(join(root, 'a.yaml'), includer('b.yaml'));
    writeFileSync(join(root, 'b.yaml'), includer('../main.yaml'));
    expect(await diagnosticsOf('root/a.yaml', { root })).toEqual([
      'steps[0].file: pipeline file "../main.yaml" (included by "b.yaml") is outside the pipelines directory',
    ]);
    expect(await diagnosticsOf('main.yaml', { root })).toEqual([
      `: the pipeline file "${join(dir, 'main.yaml')}" is outside the pipelines directory`,
    ]);
    // Without a root nothing is confined (the CLI runs what its user names).
    expect(await diagnosticsOf('root/a.yaml')).not.toContainEqual(expect.stringMatching(/outside/));
  });
});

describe('an included pipeline file is validated in full before anything runs', () => {
  const sub = join(dir, 'validated');
  mkdirSync(sub);
  writeFileSync(join(sub, 'child.yaml'), 'name: child\nsteps:\n  - name: c\n    type: mock\n    promt: typo\n');
  writeFileSync(
    join(sub, 'parent.yaml'),
    'name: parent\nsteps:\n  - { name: first, type: mock, prompt: paid }\n  - name: sub\n    type: pipeline\n    file: child.yaml\n',
  );

  async function diagnostics(file: string, options = {}) {
    try {
      await loadPipeline(file, options);
    } catch (error) {
      if (error instanceof ConfigError) return error.diagnostics;
      throw error;
    }
    return [];
  }

  it("reports the child's problems at the child's file:line:col, and points at the step", async () => {
    expect(await diagnostics('parent.yaml', { cwd: sub })).toEqual([
      expect.objectContaining({
        file: 'parent.yaml',
        line: 6,
        col: 11,
        path: 'steps[1].file',
        message: expect.stringContaining('the pipeline file "child.yaml" this step runs is invalid (1 problem'),
      }),
      {
        file: 'child.yaml',
        line: 5,
        col: 5,
        path: 'steps[0].promt',
        message: 'unknown key "promt"',
        hint: 'did you mean "prompt"?',
      },
    ]);
    // Named as the includer was: absolute for an absolute path.
    const absolute = await diagnostics(join(sub, 'parent.yaml'));
    expect(absolute[1]).toMatchObject({ file: join(sub, 'child.yaml'), line: 5, col: 5 });
  });

  it('follows includes in turn, inside inline pipelines too', async () => {
    writeFileSync(join(sub, 'middle.yaml'), includer('child.yaml'));
    writeFileSync(
      join(sub, 'top.yaml'),
      'name: top\nsteps:\n  - name: wrap\n    type: pipeline\n    pipeline:\n      name: inner\n      steps:\n        - { name: m, type: pipeline, file: middle.yaml }\n',
    );
    const found = await diagnostics('top.yaml', { cwd: sub });
    expect(found.map((d) => `${d.file}:${d.line}:${d.col}: ${d.path}`)).toEqual([
      'top.yaml:8:44: steps[0].pipeline.steps[0].file',
      'middle.yaml:5:11: steps[0].file',
      'child.yaml:5:5: steps[0].promt',
    ]);
  });

  it('accepts a valid child, and `run` refuses an invalid one before any step is paid for', async () => {
    writeFileSync(join(sub, 'good.yaml'), 'name: good\nsteps:\n  - { name: c, type: mock, prompt: hi }\n');
    writeFileSync(join(sub, 'ok.yaml'), includer('good.yaml'));
    expect(await diagnostics('ok.yaml', { cwd: sub })).toEqual([]);
    const run = await runMain(['run', 'parent.yaml', '--mock', '--json', '--db', 'j.db'], { cwd: sub });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('child.yaml:5:5: unknown key "promt" at steps[0].promt');
    expect(run.stdout).not.toContain('"run_id"');
  });
});

describe('an included file is read as the loader reads it: merge keys on, cyclic aliases refused', () => {
  const sub = join(dir, 'merge');
  mkdirSync(sub);
  const parent = (child: string) =>
    `name: parent\nsteps:\n  - { name: paid_first, type: mock, prompt: an expensive first step }\n  - { name: child, type: pipeline, file: ${child} }\n`;

  it('checks the inputs a child declares with `<<:` are given, as for one written out', async () => {
    writeFileSync(
      join(sub, 'kid.yaml'),
      [
        'name: kid',
        'inputs:',
        '  topic: &required_text { type: string, required: true }',
        '  audience: { <<: *required_text, description: who reads it }',
        'steps:',
        '  - { name: draft, type: mock, prompt: "{{ topic }} for {{ audience }}" }',
      ].join('\n'),
    );
    writeFileSync(join(sub, 'p.yaml'), parent('kid.yaml'));
    expect(await diagnosticsOf('merge/p.yaml')).toEqual([
      'steps[1].inputs: pipeline file "kid.yaml" requires input "topic", which is not given',
      'steps[1].inputs: pipeline file "kid.yaml" requires input "audience", which is not given',
    ]);
  });

  it('refuses to start a run whose child, written with `<<:`, needs an API key that is not set', async () => {
    writeFileSync(
      join(sub, 'child.yaml'),
      [
        'name: child',
        'steps:',
        '  - &base',
        '    name: draft',
        '    type: mock',
        '    prompt: draft',
        '  - <<: *base',
        '    name: polish',
        '    type: claude',
      ].join('\n'),
    );
    writeFileSync(join(sub, 'parent.yaml'), parent('child.yaml'));
    const run = await runMain(['run', 'parent.yaml', '--db', 'j.db'], { cwd: sub, env: { NO_COLOR: '1' } });
    expect(run.stderr).toContain('ANTHROPIC_API_KEY');
    expect(run.stderr).not.toContain('paid_first');
    expect(run.code).toBe(2);
  });

  it("reports a child's cyclic alias at the child's line, without crashing the parent's load", async () => {
    writeFileSync(
      join(sub, 'cyclic.yaml'),
      'name: cyclic\nvariables: &v\n  self: *v\nsteps:\n  - { name: a, type: mock, prompt: x }\n',
    );
    writeFileSync(join(sub, 'holder.yaml'), parent('cyclic.yaml'));
    expect(await diagnosticsOf('merge/holder.yaml')).toEqual([
      expect.stringMatching(/^steps\[1\]\.file: the pipeline file "cyclic\.yaml" this step runs is invalid/),
      ': the alias *v is inside the value it repeats (&v): that value would contain itself without end',
    ]);
  });
});

describe('the limits of included files', () => {
  const sub = join(dir, 'limits');
  mkdirSync(sub);

  async function diagnostics(file: string) {
    try {
      await loadPipeline(file, { cwd: sub });
    } catch (error) {
      if (error instanceof ConfigError) return error.diagnostics;
      throw error;
    }
    return [];
  }

  it('names the file that includes itself from the one being loaded, as the docs show', async () => {
    writeFileSync(join(sub, 'a.yaml'), includer('b.yaml'));
    writeFileSync(join(sub, 'b.yaml'), includer('a.yaml'));
    // Was: `pipeline file "b.yaml" includes itself: b.yaml → a.yaml → b.yaml` (a.yaml not on the walk's stack).
    expect(await diagnostics('a.yaml')).toEqual([
      expect.objectContaining({
        file: 'a.yaml',
        line: 5,
        col: 11,
        path: 'steps[0].file',
        message: 'pipeline file "a.yaml" includes itself: a.yaml → b.yaml → a.yaml',
      }),
    ]);
  });

  it('counts the inline pipelines of an included file in the nesting, at the `file:` key', async () => {
    // deep1 → … → deep7 through files (deep7 runs at level 6), then two inline levels in deep7: its
    // inner pipeline would run at level 8, fine; one more, at level 9, is one too many.
    const inline = (levels: number): string => {
      let steps = '  - { name: leaf, type: mock, prompt: deepest }\n';
      for (let i = levels; i > 0; i--) {
        const indented = steps.replace(/^/gm, '      ');
        steps = `  - name: in${i}\n    type: pipeline\n    pipeline:\n      name: in${i}\n      steps:\n${indented}`;
      }
      return `name: deep7\nsteps:\n${steps}`;
    };
    for (let i = 1; i < 7; i++) writeFileSync(join(sub, `deep${i}.yaml`), includer(`deep${i + 1}.yaml`));
    writeFileSync(join(sub, 'deep7.yaml'), inline(2));
    expect(await diagnostics('deep1.yaml')).toEqual([]);

    writeFileSync(join(sub, 'deep7.yaml'), inline(3));
    // deep7 on its own is fine: only from where it runs is it too deep.
    expect(await diagnostics('deep7.yaml')).toEqual([]);
    expect(await diagnostics('deep1.yaml')).toEqual([
      expect.objectContaining({
        file: 'deep1.yaml',
        line: 5,
        col: 11,
        path: 'steps[0].file',
        message: expect.stringMatching(
          /^pipelines nest more than 8 deep through deep1\.yaml → .* → deep7\.yaml and the inline pipelines in "deep7\.yaml"$/,
        ),
      }),
    ]);
  });

  it('reads and validates a file run by many steps once, however deep the reuse', async () => {
    // fan0 runs fan1 from 4 steps, fan1 runs fan2 from 4 steps, … fan6: 4^6 = 4,096 runs of fan6.
    const fan = (i: number) =>
      `name: fan${i}\nsteps:\n  - { name: s, type: mock, prompt: hi }\n${[1, 2, 3, 4]
        .map((c) => `  - { name: c${c}, type: pipeline, file: fan${i + 1}.yaml }\n`)
        .join('')}`;
    for (let i = 0; i < 6; i++) writeFileSync(join(sub, `fan${i}.yaml`), fan(i));
    writeFileSync(join(sub, 'fan6.yaml'), 'name: fan6\nsteps:\n  - { name: leaf, type: mock, prompt: hi }\n');
    const parses = vi.mocked(parseSource);
    parses.mockClear();
    expect(await diagnostics('fan0.yaml')).toEqual([]);
    // fan0 once; each of the 6 files it runs twice at most: once read for the walk of includes, once
    // loaded in full. (Was 41,869: every `file:` step walked and loaded its subtree again.)
    expect(parses.mock.calls.length).toBeLessThanOrEqual(1 + 2 * 6);

    // A problem deep down is still reported at its own place, once, and at each step that runs it.
    writeFileSync(join(sub, 'fan6.yaml'), 'name: fan6\nsteps:\n  - { name: leaf, type: mock, promt: hi }\n');
    parses.mockClear();
    const found = await diagnostics('fan0.yaml');
    expect(parses.mock.calls.length).toBeLessThanOrEqual(1 + 2 * 6);
    expect(found.filter((d) => d.file === 'fan6.yaml')).toEqual([
      expect.objectContaining({ line: 3, col: 31, path: 'steps[0].promt', message: 'unknown key "promt"' }),
    ]);
    expect(found.filter((d) => d.file === 'fan0.yaml').map((d) => `${d.line}:${d.col}: ${d.path}`)).toEqual([
      '4:39: steps[1].file',
      '5:39: steps[2].file',
      '6:39: steps[3].file',
      '7:39: steps[4].file',
    ]);
  });
  it('checks the keys of a file run by many steps once, and every provider its files call', async () => {
    // kfan0 runs kfan1 from 4 steps … kfan5; each kfan<i> calls the provider p<i>, declared in it.
    const fan = (i: number) =>
      `name: kfan${i}\nproviders:\n  p${i}: { type: openai, api_key_env: KEY_${i} }\nsteps:\n` +
      `  - { name: s, type: llm, provider: p${i}, model: m, prompt: hi }\n${[1, 2, 3, 4]
        .map((c) => `  - { name: c${c}, type: pipeline, file: kfan${i + 1}.yaml }\n`)
        .join('')}`;
    for (let i = 0; i < 5; i++) writeFileSync(join(sub, `kfan${i}.yaml`), fan(i));
    writeFileSync(
      join(sub, 'kfan5.yaml'),
      'name: kfan5\nproviders:\n  p5: { type: openai, api_key_env: KEY_5 }\nsteps:\n  - { name: s, type: llm, provider: p5, model: m, prompt: hi }\n',
    );
    const loaded = await loadPipeline(join(sub, 'kfan0.yaml'));
    const parses = vi.mocked(parseSource);
    parses.mockClear();
    const missing = checkProviderKeys(loaded.pipeline, { KEY_0: 'k', KEY_3: 'k' }, sub);
    expect(missing.map((p) => p.provider)).toEqual(['p1', 'p2', 'p4', 'p5']);
    // Each of the 5 files read once (was 4 + 16 + 64 + 256 + 1,024 = 1,364 reads).
    expect(parses.mock.calls.length).toBeLessThanOrEqual(5);
  });
});
