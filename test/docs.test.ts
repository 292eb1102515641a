// Every ```yaml block in README.md and docs/*.md is checked: a whole pipeline must load without a
// problem; a block whose first line is `# invalid` shows a mistake on purpose and must be rejected by
// the loader. A block whose first line is `# fragment` shows part of a pipeline: it is completed into
// one and loaded too — top-level keys (`providers:`, `budget:` …) go into a one-step pipeline, any
// other keys onto a step, a list is the list of steps; a key written twice shows alternatives, each
// loaded on its own; the steps and inputs its templates read are declared before it, and the files
// it names (`file:`, `module:`) are stand-ins written beside it.
//
// Every ```ts block's imports must name exports that exist, and the tables of metrics list exactly
// the metrics the code registers.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isMap, isScalar, isSeq, parseDocument, stringify } from 'yaml';
import { loadPipelineFromString } from '../src/config/loader.js';
import { ConfigError } from '../src/errors.js';

const root = join(import.meta.dirname, '..');
const docsDir = join(root, 'docs');
const files = [
  'README.md',
  ...readdirSync(docsDir)
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Block {
  file: string;
  line: number;
  text: string;
}

function blocksOf(file: string, language: RegExp): Block[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  let start = -1;
  lines.forEach((line, i) => {
    if (start === -1 && new RegExp(`^\`\`\`(${language.source})\\s*$`).test(line)) start = i;
    else if (start !== -1 && /^```\s*$/.test(line)) {
      blocks.push({ file, line: start + 1, text: lines.slice(start + 1, i).join('\n') });
      start = -1;
    }
  });
  return blocks;
}

const blocks = files.flatMap((f) => blocksOf(f, /ya?ml/));
const label = (b: Block) => `${b.file}:${b.line}`;
const firstLine = (b: Block) => b.text.split('\n')[0]?.trim() ?? '';

/** The top-level keys of a pipeline, as the published JSON Schema lists them. */
const TOP_LEVEL = new Set(
  Object.keys(
    (
      JSON.parse(readFileSync(join(root, 'schema', 'pipeline.schema.json'), 'utf8')) as {
        $defs: { Pipeline: { properties: Record<string, unknown> } };
      }
    ).$defs.Pipeline.properties,
  ),
);

/** The alternatives a fragment shows: the n-th has the n-th occurrence of each repeated key. */
function alternatives(text: string): unknown[] {
  const doc = parseDocument(text, { uniqueKeys: false });
  if (!isMap(doc.contents)) return [doc.toJS()];
  const occurrences = new Map<string, unknown[]>();
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const value = isMap(pair.value) || isSeq(pair.value) || isScalar(pair.value) ? pair.value.toJS(doc) : pair.value;
    occurrences.set(key, [...(occurrences.get(key) ?? []), value]);
  }
  const count = Math.max(...[...occurrences.values()].map((v) => v.length));
  return Array.from({ length: count }, (_, n) =>
    Object.fromEntries([...occurrences].map(([key, values]) => [key, values[Math.min(n, values.length - 1)]])),
  );
}

/** A whole pipeline around a fragment, and the stand-in files it names. */
function complete(fragment: unknown, text: string): { pipeline: Record<string, unknown>; files: Map<string, string> } {
  const read = (pattern: RegExp) => [...new Set([...text.matchAll(pattern)].map((m) => m[1] as string))];
  const context = (exclude: Set<string>) =>
    read(/\bsteps\.([a-z_][a-z0-9_]*)/g)
      .filter((name) => !exclude.has(name))
      .map((name) => ({ name, type: 'mock', prompt: `stand-in for ${name}` }));
  const inputs = Object.fromEntries(read(/\binputs\.([a-z_][a-z0-9_]*)/g).map((n) => [n, { type: 'string' }]));
  const named = (steps: unknown[]) => new Set(steps.map((s) => (s as { name?: string }).name ?? ''));

  let steps: unknown[];
  let top: Record<string, unknown> = {};
  if (Array.isArray(fragment)) steps = [...context(named(fragment)), ...fragment];
  else if (Object.keys(fragment as object).every((k) => TOP_LEVEL.has(k))) {
    top = fragment as Record<string, unknown>;
    steps = (top.steps as unknown[] | undefined) ?? [{ name: 'fragment_step', type: 'mock', prompt: 'Say hello.' }];
  } else {
    const keys = fragment as Record<string, unknown>;
    const type = keys.type ?? (keys.tools ? 'gemini_function' : 'mock');
    steps = [...context(new Set()), { name: 'fragment_step', type, prompt: 'Say hello.', ...keys }];
  }

  const files = new Map<string, string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if (typeof o.file === 'string') {
        const declared = Object.fromEntries(
          Object.keys((o.inputs as object) ?? {}).map((n) => [n, { type: 'string' }]),
        );
        files.set(
          o.file,
          stringify({ name: 'stand-in', inputs: declared, steps: [{ name: 's', type: 'mock', prompt: 'hi' }] }),
        );
      }
      if (typeof o.module === 'string') {
        files.set(o.module, `export function ${String(o.export ?? o.name)}() { return 'ok'; }\n`);
      }
      Object.values(o).forEach(visit);
    }
  };
  visit(steps);
  const declaredInputs = { ...inputs, ...((top.inputs as object) ?? {}) };
  return {
    pipeline: {
      name: 'fragment',
      ...top,
      ...(Object.keys(declaredInputs).length > 0 ? { inputs: declaredInputs } : {}),
      steps,
    },
    files,
  };
}

const scratch = mkdtempSync(join(tmpdir(), 'elexirion-docs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('YAML in the docs', () => {
  it('finds the blocks', () => {
    expect(blocks.length).toBeGreaterThan(5);
  });

  it.each(blocks.map((b) => [label(b), b] as const))('%s', (_label, block) => {
    const marker = firstLine(block);
    if (marker === '# fragment') {
      // Fragments may repeat a key to show alternatives (`cache: {…}` / `cache: false`).
      const doc = parseDocument(block.text, { uniqueKeys: false });
      expect(doc.errors.map((e) => e.message)).toEqual([]);
      alternatives(block.text).forEach((alternative, n) => {
        const { pipeline, files: standIns } = complete(alternative, block.text);
        const dir = mkdtempSync(join(scratch, 'fragment-'));
        for (const [name, content] of standIns) writeFileSync(join(dir, name), content);
        const source = stringify(pipeline);
        try {
          loadPipelineFromString(source, join(dir, 'fragment.yaml'));
        } catch (error) {
          const details =
            error instanceof ConfigError ? error.diagnostics.map((d) => d.message).join('\n') : String(error);
          expect.fail(
            `${label(block)}: this fragment (alternative ${n + 1}) does not load as part of a pipeline:\n${details}\n--- completed as:\n${source}`,
          );
        }
      });
      return;
    }
    // Files named by a block resolve against the document's folder.
    const file = join(root, block.file);
    if (marker === '# invalid') {
      expect(() => loadPipelineFromString(block.text, file)).toThrow(ConfigError);
      return;
    }
    try {
      loadPipelineFromString(block.text, file);
    } catch (error) {
      // Positions inside the block, shifted to lines of the Markdown file.
      const details =
        error instanceof ConfigError
          ? error.diagnostics.map((d) => `${block.file}:${d.line + block.line}:${d.col}: ${d.message}`).join('\n')
          : String(error);
      expect.fail(
        `${label(block)}: this YAML block is not a valid pipeline (mark a partial example with "# fragment" on its first line, a deliberately broken one with "# invalid"):\n${details}`,
      );
    }
  });

  it('a fragment that does not fit a pipeline fails the check', () => {
    const [bad] = alternatives('budget: { max_cost_usd: -1 }');
    const { pipeline } = complete(bad, '');
    expect(() => loadPipelineFromString(stringify(pipeline), join(scratch, 'bad.yaml'))).toThrow(ConfigError);
  });
});

/** Where an import specifier of a docs example points: the package is src/index.ts. */
function moduleOf(specifier: string): string {
  if (specifier === 'elexirion') return join(root, 'src/index.ts');
  if (specifier.startsWith('./src/')) return join(root, specifier.replace(/\.js$/, '.ts'));
  // docs/*.md write paths inside src/ as `./providers/…` (the engine's point of view).
  if (specifier.startsWith('./')) return join(root, 'src', specifier.replace(/\.js$/, '.ts'));
  return specifier;
}

const tsBlocks = files.flatMap((f) => blocksOf(f, /ts|typescript/));

describe('TypeScript in the docs', () => {
  it('finds the blocks', () => {
    expect(tsBlocks.length).toBeGreaterThan(3);
  });

  it.each(tsBlocks.map((b) => [label(b), b] as const))('%s imports what exists', async (_label, block) => {
    const imports = [...block.text.matchAll(/^import \{([^}]+)\} from '([^']+)'/gm)];
    for (const [, names, specifier] of imports) {
      const module = (await import(moduleOf(specifier as string))) as Record<string, unknown>;
      const values = (names as string)
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== '' && !n.startsWith('type '));
      const missing = values.filter((n) => module[n] === undefined);
      expect(missing, `${label(block)}: from '${specifier}'`).toEqual([]);
    }
  });
});

describe('names the docs list', () => {
  it('docs/observability.md lists exactly the metrics src/telemetry/metrics.ts registers', () => {
    const doc = readFileSync(join(docsDir, 'observability.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `(pipeline_[a-z_]+)`/gm)].map((m) => m[1]).sort();
    const code = readFileSync(join(root, 'src/telemetry/metrics.ts'), 'utf8');
    const registered = [...code.matchAll(/name: '(pipeline_[a-z_]+)'/g)].map((m) => m[1]).sort();
    expect(registered.length).toBeGreaterThan(5);
    expect(documented).toEqual(registered);
  });

  it('every file of the project the prose names exists', () => {
    const missing = files.flatMap((file) => {
      // Outside code blocks: a block's paths are an example's own (`src/a.ts` as an input).
      const prose = readFileSync(join(root, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
      const named = [...prose.matchAll(/\b((?:src|test|bench|examples|schema)\/[\w./-]+\.(?:ts|mjs|md|json|yaml))\b/g)];
      return named.map((m) => m[1] as string).filter((path) => !existsSync(join(root, path)));
    });
    expect(missing).toEqual([]);
  });

  it('README.md states the Node version package.json requires', () => {
    const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } })
      .engines.node;
    const minimum = /^>=(\d+\.\d+)$/.exec(engines)?.[1];
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(`Node.js ${minimum} or later`);
  });
});
