// Every example runs offline with the mock provider, as the README promises: a fresh clone needs
// no key. The chain example runs as a chain, its first link's outputs feeding the second.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chain } from '../src/chain/chain.js';
import { loadPipeline } from '../src/config/loader.js';
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

  it('summarize-text.yaml runs with its required input', async () => {
    const engine = newEngine();
    const handle = await engine.start(await loadPipeline(join(examplesDir, 'summarize-text.yaml')), {
      mock: true,
      inputs: { text: 'Journals make runs resumable.' },
    });
    expect((await handle.result).status).toBe('succeeded');
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
