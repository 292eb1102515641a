// Every ```yaml block in README.md and docs/*.md is checked: a whole pipeline must load without a
// problem; a block whose first line is `# fragment` is only parsed as YAML; a block whose first
// line is `# invalid` shows a mistake on purpose and must be rejected by the loader.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadPipelineFromString } from '../src/config/loader.js';
import { ConfigError } from '../src/errors.js';

const root = join(import.meta.dirname, '..');
const docsDir = join(root, 'docs');
const files = [
  ...(existsSync(join(root, 'README.md')) ? ['README.md'] : []),
  ...readdirSync(docsDir)
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Block {
  file: string;
  line: number;
  text: string;
}

function yamlBlocks(file: string): Block[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  let start = -1;
  lines.forEach((line, i) => {
    if (start === -1 && /^```ya?ml\s*$/.test(line)) start = i;
    else if (start !== -1 && /^```\s*$/.test(line)) {
      blocks.push({ file, line: start + 1, text: lines.slice(start + 1, i).join('\n') });
      start = -1;
    }
  });
  return blocks;
}

const blocks = files.flatMap(yamlBlocks);
const label = (b: Block) => `${b.file}:${b.line}`;
const firstLine = (b: Block) => b.text.split('\n')[0]?.trim() ?? '';

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
});
