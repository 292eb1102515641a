// The cache of pipeline loads `serve` keeps: a load is reused only while every byte it read and
// every file its pipelines name are as they were; anything else is loaded, and checked, again.
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { PipelineLoadCache } from '../../src/config/load-cache.js';
import { ConfigError } from '../../src/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'elexirion-load-cache-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const mock = (name: string, response: string) =>
  `name: ${name}\nsteps:\n  - { name: s, type: mock, prompt: x, response: ${response} }\n`;
const parent = (file: string) => `name: parent\nsteps:\n  - { name: child, type: pipeline, file: ${file} }\n`;

/** Rewrites a file keeping its size and its mtime: only its content tells it changed. */
function rewrite(file: string, text: string): void {
  const { atime, mtime, size } = statSync(file);
  expect(Buffer.byteLength(text)).toBe(size);
  writeFileSync(file, text);
  utimesSync(file, atime, mtime);
}

it('reuses the load of a file whose content is unchanged', async () => {
  writeFileSync(join(dir, 'a.yaml'), mock('a', 'one'));
  const cache = new PipelineLoadCache();
  const first = await cache.load('a.yaml', { cwd: dir, root: dir });
  const second = await cache.load('a.yaml', { cwd: dir, root: dir });
  expect(second).toBe(first);
  expect([cache.loads, cache.hits]).toEqual([1, 1]);
});

it('loads again a file whose content changed, even at the same size and mtime', async () => {
  const file = join(dir, 'a.yaml');
  writeFileSync(file, mock('a', 'one'));
  const cache = new PipelineLoadCache();
  await cache.load(file, { root: dir });
  rewrite(file, mock('a', 'two'));
  const loaded = await cache.load(file, { root: dir });
  expect(JSON.stringify(loaded.pipeline)).toContain('two');
  expect(cache.loads).toBe(2);
});

it('loads again a pipeline whose included file changed, and checks it again', async () => {
  writeFileSync(join(dir, 'parent.yaml'), parent('child.yaml'));
  writeFileSync(join(dir, 'child.yaml'), mock('child', 'one'));
  const cache = new PipelineLoadCache();
  await cache.load(join(dir, 'parent.yaml'), { root: dir });
  // Still the same size and mtime, now invalid: the load says so, as a fresh one would.
  rewrite(join(dir, 'child.yaml'), mock('child', 'one').replace('type: mock', 'type: meck'));
  await expect(cache.load(join(dir, 'parent.yaml'), { root: dir })).rejects.toThrow(ConfigError);
  rewrite(join(dir, 'child.yaml'), mock('child', 'six'));
  await cache.load(join(dir, 'parent.yaml'), { root: dir });
  expect([cache.loads, cache.hits]).toEqual([2, 0]);
});

it('loads again a pipeline whose tool module is gone, or whose included file now leads out of the root', async () => {
  const root = join(dir, 'root');
  mkdirSync(root);
  writeFileSync(join(root, 'tool.js'), 'export default () => 1;\n');
  const tools = `name: tools\nsteps:\n  - name: s\n    type: gemini_function\n    prompt: x\n    tools:\n      - { name: t, description: d, module: ./tool.js }\n`;
  writeFileSync(join(root, 'tools.yaml'), tools);
  writeFileSync(join(root, 'parent.yaml'), parent('child.yaml'));
  writeFileSync(join(root, 'child.yaml'), mock('child', 'one'));
  writeFileSync(join(dir, 'outside.yaml'), mock('child', 'one'));
  const cache = new PipelineLoadCache();
  await cache.load(join(root, 'tools.yaml'), { root });
  await cache.load(join(root, 'parent.yaml'), { root });
  rmSync(join(root, 'tool.js'));
  await expect(cache.load(join(root, 'tools.yaml'), { root })).rejects.toThrow(
    /tool module ".\/tool.js" does not exist/,
  );
  // The same bytes, now read through a symlink out of the root: refused, not reused.
  rmSync(join(root, 'child.yaml'));
  symlinkSync(join(dir, 'outside.yaml'), join(root, 'child.yaml'));
  await expect(cache.load(join(root, 'parent.yaml'), { root })).rejects.toThrow(/outside the pipelines directory/);
});

it('keeps no failed load: the file is loaded again each time until it is fixed', async () => {
  const file = join(dir, 'a.yaml');
  writeFileSync(file, 'name: a\nsteps: []\nbogus: 1\n');
  const cache = new PipelineLoadCache();
  await expect(cache.load(file)).rejects.toThrow(ConfigError);
  await expect(cache.load(file)).rejects.toThrow(ConfigError);
  expect(cache.size).toBe(0);
  writeFileSync(file, mock('a', 'one'));
  await cache.load(file);
  expect(cache.loads).toBe(1);
});

it('shares no load between different roots or options', async () => {
  const file = join(dir, 'a.yaml');
  writeFileSync(file, mock('a', 'one'));
  const cache = new PipelineLoadCache();
  const confined = await cache.load(file, { root: dir });
  const free = await cache.load(file);
  expect(free).not.toBe(confined);
  expect(free.root).toBeUndefined();
  expect(cache.loads).toBe(2);
});

it('keeps at most maxEntries loads, the least recently used let go first', async () => {
  for (const name of ['a', 'b', 'c']) writeFileSync(join(dir, `${name}.yaml`), mock(name, 'one'));
  const cache = new PipelineLoadCache({ maxEntries: 2 });
  await cache.load(join(dir, 'a.yaml'));
  await cache.load(join(dir, 'b.yaml'));
  await cache.load(join(dir, 'a.yaml'));
  await cache.load(join(dir, 'c.yaml')); // b goes
  expect(cache.size).toBe(2);
  await cache.load(join(dir, 'a.yaml'));
  await cache.load(join(dir, 'b.yaml'));
  expect([cache.loads, cache.hits]).toEqual([4, 2]);
});

it('hands out a frozen pipeline: no run can change what the next runs of the file get', async () => {
  writeFileSync(join(dir, 'a.yaml'), mock('a', 'one'));
  const loaded = await new PipelineLoadCache().load(join(dir, 'a.yaml'));
  expect(() => {
    (loaded.pipeline.steps as unknown[]).push({});
  }).toThrow(TypeError);
  expect(Object.isFrozen(loaded.pipeline.steps[0])).toBe(true);
});
