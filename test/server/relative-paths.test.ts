// What the service sends back names files under --root relative to it: `(inline).yaml:3:21`, not
// the directory the server keeps its pipelines in — in errors, diagnostics and the fields that name
// files; never in what the steps produced (outputs, streamed chunks), which is served as it is.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { relativeDeep, relativeToRoot } from '../../src/server/root-relative.js';
import { type Harness, readSse, startHarness, waitForStatus } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('names inline and root files relative to --root in errors, diagnostics and run results', async () => {
  h = await startHarness();
  const invalid = await h.call('/runs', { json: { yaml: 'name: bad\nsteps:\n  - { name: a, type: nope }\n' } });
  expect(invalid.status).toBe(422);
  const invalidText = await invalid.text();
  expect(invalidText).not.toContain(h.root);
  expect((JSON.parse(invalidText) as { diagnostics: { file: string }[] }).diagnostics[0]?.file).toBe('(inline).yaml');

  // `n` is a template: a plain `many` is refused at load time (422); rendered, it fails the run.
  const child = `name: outer
steps:
  - name: sub
    type: pipeline
    inputs: { n: "{{ 'many' }}" }
    pipeline:
      name: inner
      inputs: { n: { type: integer, required: true } }
      steps:
        - { name: s, type: mock, prompt: "{{ n }}" }
`;
  const started = await h.call('/runs', { json: { yaml: child, mock: true } });
  const { run_id } = (await started.json()) as { run_id: string };
  const run = await waitForStatus(h, run_id, 'failed');
  expect(run.error).toMatch(/\(inline\)\.yaml:8:\d+/);
  expect(JSON.stringify(run)).not.toContain(h.root);
});

it('serves step outputs, run outputs and streamed chunks as the steps produced them, the root in them too', async () => {
  h = await startHarness();
  // The root's path inside URLs, and a path under it the model wrote: the model's text, not a file the
  // server names — the API must not rewrite it (the journal holds it as it is).
  const answer = `Read https://docs.example.com${h.root}/setup, mirror it to s3://bucket${h.root}/backup and see ${h.root}/notes.md`;
  const yaml = `name: links\nsteps:\n  - { name: s, type: mock, prompt: x, response: ${JSON.stringify(answer)} }\noutputs:\n  text: "{{ steps.s.output }}"\n`;
  const started = await h.call('/runs', { json: { yaml, stream: true } });
  const { run_id } = (await started.json()) as { run_id: string };
  const events = await readSse(await h.call(`/runs/${run_id}/events`));
  const run = await waitForStatus(h, run_id, 'succeeded');
  expect(run.outputs.text).toBe(answer);
  expect(run.steps[0]?.output).toBe(answer);
  const chunks = events
    .filter((e) => e.event === 'pipeline.step.chunk')
    .map((e) => (e.data as { data: { text: string } }).data.text);
  expect(chunks.join('')).toBe(answer);
});

it('names files under --root relative to it in the event stream’s errors and in the files steps name', async () => {
  h = await startHarness();
  writeFileSync(
    join(h.root, 'pipelines', 'child.yaml'),
    'name: child\nsteps:\n  - { name: c, type: mock, prompt: hi }\n',
  );
  // `n` is a template: a plain `many` is refused at load time (422); rendered, it fails the run.
  const yaml = `name: outer
steps:
  - { name: sub, type: pipeline, file: pipelines/child.yaml }
  - name: bad
    type: pipeline
    inputs: { n: "{{ 'many' }}" }
    pipeline:
      name: inner
      inputs: { n: { type: integer, required: true } }
      steps:
        - { name: s, type: mock, prompt: "{{ n }}" }
`;
  const started = await h.call('/runs', { json: { yaml, mock: true } });
  const { run_id } = (await started.json()) as { run_id: string };
  const events = await readSse(await h.call(`/runs/${run_id}/events`));
  const run = await waitForStatus(h, run_id, 'failed');
  expect(run.steps.find((s) => s.name === 'sub')?.details?.file).toBe(join('pipelines', 'child.yaml'));
  const stop = events.find((e) => e.event === 'pipeline.execution.stop')?.data as { data: { error: string } };
  expect(stop.data.error).toMatch(/\(inline\)\.yaml:\d+:\d+/);
  expect(JSON.stringify(events)).not.toContain(h.root);
  expect(JSON.stringify(run)).not.toContain(h.root);
});

describe('relativeToRoot', () => {
  const name = relativeToRoot('/srv');

  it('makes a path that begins with the root relative to it, wherever a message names one', () => {
    expect(name('/srv/(inline).yaml:3:21: unknown step type')).toBe('(inline).yaml:3:21: unknown step type');
    expect(name('cannot read "/srv/a/b.yaml" (/srv/c.yaml), cwd=/srv/d')).toBe(
      'cannot read "a/b.yaml" (c.yaml), cwd=d',
    );
    expect(name("Cannot find module 'file:///srv/tools/t.mjs'")).toBe("Cannot find module 'tools/t.mjs'");
    expect(name('the root /srv itself')).toBe('the root . itself');
  });

  it('leaves the same characters alone inside a URL, a word or another path', () => {
    for (const text of [
      'https://docs.example.com/srv/setup',
      's3://bucket/srv/backup',
      '/srv2/x.yaml',
      '/srvx',
      'a/srv/b',
      '/var/srv/x',
    ]) {
      expect(name(text)).toBe(text);
    }
  });

  it('changes nothing for the root `/`', () => {
    expect(relativeToRoot('/')('/etc/x.yaml')).toBe('/etc/x.yaml');
  });
});

describe('relativeDeep', () => {
  const name = relativeToRoot('/srv');

  it('rewrites only errors, messages and fields naming files, never outputs or chunks', () => {
    const result = {
      error: 'step s: /srv/x.yaml:1:1: bad',
      outputs: { text: 'see /srv/notes.md', error: '/srv/kept.md' },
      steps: [
        { output: { file: '/srv/kept.md' }, error: 'in /srv/y.yaml', details: { file: '/srv/p/c.yaml', cwd: '/srv' } },
        { details: { errors: [{ index: 0, error: 'at /srv/z.yaml' }] } },
      ],
      data: { text: '/srv/chunk', reason: 'ENOENT /srv/w' },
      diagnostics: [{ file: '/srv/(inline).yaml', message: 'm', hint: 'move it into /srv/' }],
    };
    expect(relativeDeep(result, name)).toEqual({
      error: 'step s: x.yaml:1:1: bad',
      outputs: { text: 'see /srv/notes.md', error: '/srv/kept.md' },
      steps: [
        { output: { file: '/srv/kept.md' }, error: 'in y.yaml', details: { file: 'p/c.yaml', cwd: '.' } },
        { details: { errors: [{ index: 0, error: 'at z.yaml' }] } },
      ],
      data: { text: '/srv/chunk', reason: 'ENOENT w' },
      diagnostics: [{ file: '(inline).yaml', message: 'm', hint: 'move it into .' }],
    });
  });
});
