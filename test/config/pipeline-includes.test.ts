// Included pipeline files (`file:` steps) are read under the top-level loader's limits — a regular
// file of at most MAX_PIPELINE_BYTES, checked before reading — and, with `root`, only inside it.
import { mkdirSync, mkdtempSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { MAX_PIPELINE_BYTES } from '../../src/config/yaml-source.js';
import { ConfigError } from '../../src/errors.js';

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
