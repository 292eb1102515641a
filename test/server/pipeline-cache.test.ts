// POST /runs with a file: the file is read at each submission, loaded and checked again only when it
// (or a file it runs) has changed — an edit runs from the next submission on; an unchanged file is
// not loaded again.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { PipelineLoadCache } from '../../src/config/load-cache.js';
import { type Harness, startHarness, waitForStatus } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const mock = (response: string) =>
  `name: cached\nsteps:\n  - { name: s, type: mock, prompt: x, response: ${response} }\noutputs:\n  text: "{{ steps.s.output }}"\n`;

async function submit(harness: Harness, file: string): Promise<{ status: number; output?: unknown }> {
  const res = await harness.call('/runs', { json: { file, mock: true } });
  if (res.status !== 202) return { status: res.status };
  const { run_id } = (await res.json()) as { run_id: string };
  const run = await waitForStatus(harness, run_id, 'succeeded');
  return { status: 202, output: run.outputs.text };
}

it('loads a submitted file once while it is unchanged, and runs an edit from the next submission on', async () => {
  const pipelines = new PipelineLoadCache();
  h = await startHarness({ pipelines });
  writeFileSync(join(h.root, 'pipelines', 'cached.yaml'), mock('one'));
  expect(await submit(h, 'pipelines/cached.yaml')).toEqual({ status: 202, output: 'one' });
  expect(await submit(h, 'pipelines/cached.yaml')).toEqual({ status: 202, output: 'one' });
  expect([pipelines.loads, pipelines.hits]).toEqual([1, 1]);

  writeFileSync(join(h.root, 'pipelines', 'cached.yaml'), mock('two'));
  expect(await submit(h, 'pipelines/cached.yaml')).toEqual({ status: 202, output: 'two' });
  // Broken, then fixed: refused as any invalid file, and the fix runs.
  writeFileSync(join(h.root, 'pipelines', 'cached.yaml'), `${mock('two')}bogus: 1\n`);
  expect((await submit(h, 'pipelines/cached.yaml')).status).toBe(422);
  writeFileSync(join(h.root, 'pipelines', 'cached.yaml'), mock('three'));
  expect(await submit(h, 'pipelines/cached.yaml')).toEqual({ status: 202, output: 'three' });
  expect(pipelines.loads).toBe(3);
});

it('runs the new content of a file a submitted pipeline runs as a step', async () => {
  h = await startHarness();
  const dir = join(h.root, 'pipelines');
  writeFileSync(join(dir, 'child.yaml'), mock('one'));
  writeFileSync(
    join(dir, 'parent.yaml'),
    'name: parent\nsteps:\n  - { name: c, type: pipeline, file: child.yaml }\noutputs:\n  text: "{{ steps.c.output.text }}"\n',
  );
  expect(await submit(h, 'pipelines/parent.yaml')).toEqual({ status: 202, output: 'one' });
  writeFileSync(join(dir, 'child.yaml'), mock('two'));
  expect(await submit(h, 'pipelines/parent.yaml')).toEqual({ status: 202, output: 'two' });
  // Now invalid: refused at submission, as before the cache.
  writeFileSync(join(dir, 'child.yaml'), mock('two').replace('type: mock', 'type: meck'));
  expect((await submit(h, 'pipelines/parent.yaml')).status).toBe(422);
});
