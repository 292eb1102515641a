// Every example runs offline with the mock provider, as the README promises: a fresh clone needs
// no key. The chain example runs as a chain, its first link's outputs feeding the second. The same
// through the CLI, with no key in the environment: `elexirion run FILE --mock` for each example, and
// every command an example's comments tell a reader to run.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chain } from '../src/chain/chain.js';
import { loadPipeline } from '../src/config/loader.js';
import { runMain } from './cli/run-main.js';
import { newEngine } from './engine/harness.js';

const examplesDir = join(import.meta.dirname, '..', 'examples');
const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml') && f !== 'summarize-text.yaml');
/** Inputs an example requires (everything else has a default). */
const INPUTS: Record<string, Record<string, unknown>> = {
  'docs-translation.yaml': { page: '# Install\n\nRun `npm ci`.' },
  'support-triage.yaml': { ticket: 'My invoice is wrong and I was charged twice.' },
};

describe('examples run offline with --mock', () => {
  it.each(examples)('%s', async (file) => {
    const engine = newEngine();
    const handle = await engine.start(await loadPipeline(join(examplesDir, file)), {
      mock: true,
      inputs: INPUTS[file] ?? {},
    });
    const result = await handle.result;
    expect(result.error ?? '', file).toBe('');
    expect(result.status).toBe('succeeded');
    expect(result.steps.length).toBeGreaterThan(0);
  });

  // code-review.yaml's default was an empty list: its batch, the point of the example, reviewed nothing.
  it.each(examples)('%s: every batch has items to map with the example inputs', async (file) => {
    const engine = newEngine();
    const handle = await engine.start(await loadPipeline(join(examplesDir, file)), {
      mock: true,
      inputs: INPUTS[file] ?? {},
    });
    const batches = (await handle.result).steps.filter((s) => s.type === 'batch' || s.type === 'claude_batch');
    for (const batch of batches) expect(batch.details?.items, `${file}: ${batch.name}`).toBeGreaterThan(0);
  });

  it('summarize-text.yaml runs with its required input', async () => {
    const engine = newEngine();
    const handle = await engine.start(await loadPipeline(join(examplesDir, 'summarize-text.yaml')), {
      mock: true,
      inputs: { text: 'Journals make runs resumable.' },
    });
    expect((await handle.result).status).toBe('succeeded');
  });

  // Its input says "how many exclamation marks": a `slice` of five marks silently capped it at 5.
  it.each([0, 3, 8])('hello.yaml prints as many marks as excitement=%i asks for', async (excitement) => {
    const engine = newEngine();
    const handle = await engine.start(await loadPipeline(join(examplesDir, 'hello.yaml')), {
      mock: true,
      inputs: { excitement },
    });
    expect((await handle.result).outputs.greeting).toBe(`Hello, world${'!'.repeat(excitement)}`);
  });

  it('the chain example passes link 1 outputs to link 2', async () => {
    const result = await chain([join(examplesDir, 'chain/1-research.yaml'), join(examplesDir, 'chain/2-write.yaml')], {
      engine: newEngine(),
      mock: true,
      inputs: { topic: 'journals' },
    });
    expect(result.status).toBe('succeeded');
    expect(result.links).toHaveLength(2);
    expect(String(result.outputs.article)).toContain('journals');
    expect(result.links[0]?.outputs.facts).toHaveLength(3);
  });
});

describe('examples run offline through the CLI', () => {
  const root = join(examplesDir, '..');
  const noKeys = { NO_COLOR: '1' };

  it.each(examples.concat('summarize-text.yaml').sort())('elexirion run examples/%s --mock', async (file) => {
    const inputs = Object.entries(INPUTS[file] ?? (file === 'summarize-text.yaml' ? { text: 'Journals.' } : {}));
    const args = inputs.flatMap(([k, v]) => ['--input', `${k}=${String(v)}`]);
    const result = await runMain(['run', `examples/${file}`, '--mock', ...args, '--db', ':memory:'], {
      cwd: root,
      env: noKeys,
    });
    expect(result.stderr.includes('error'), result.stderr).toBe(false);
    expect(result.code).toBe(0);
  });

  const commented = ['', 'chain/'].flatMap((sub) =>
    readdirSync(join(examplesDir, sub))
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) =>
        [...readFileSync(join(examplesDir, sub, f), 'utf8').matchAll(/^#\s+npx elexirion (.+)$/gm)].map(
          (m) => m[1] as string,
        ),
      ),
  );
  it('finds the commands the examples show', () => {
    expect(commented.length).toBeGreaterThanOrEqual(3);
  });
  it.each(commented)('elexirion %s', async (command) => {
    const result = await runMain([...command.split(' '), '--db', ':memory:'], { cwd: root, env: noKeys });
    expect(result.code, result.stderr).toBe(0);
  });
});
