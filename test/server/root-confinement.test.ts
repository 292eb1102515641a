// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are asserted on, not typed
// `serve --root` confines everything a pipeline submitted over HTTP reads or runs — not only the
// top-level file: `file:` steps, tool modules, nested includes, symlinks, and what a resume reloads.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { type Harness, startHarness, waitForStatus } from './harness.js';

let h: Harness;
let outside: string;
const marker = () => join(outside, 'PWNED');

/** A pipeline file outside the root whose output is a secret. */
const SECRET =
  'name: secret\nsteps:\n  - { name: s, type: mock, prompt: hi, response: "the secret" }\noutputs:\n  leaked: "{{ steps.s.output }}"\n';

/** A pipeline that waits, then runs `file` as a step (the wait lets a test act in between). */
const includer = (file: string, latency = '1ms') =>
  `name: includer\nsteps:\n  - { name: wait, type: mock, prompt: hi, response: ok, latency: ${latency} }\n  - name: child\n    type: pipeline\n    file: ${JSON.stringify(file)}\noutputs:\n  child: "{{ steps.child.output }}"\n`;

beforeAll(async () => {
  h = await startHarness();
  outside = mkdtempSync(join(tmpdir(), 'elexirion-outside-'));
  writeFileSync(join(outside, 'secret.yaml'), SECRET);
  // Imported, it leaves a mark: proof that code outside the root ran.
  writeFileSync(
    join(outside, 'evil.mjs'),
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(join(outside, 'PWNED'))}, 'ran');\nexport const evil = () => 'evil';\n`,
  );
  symlinkSync(join(outside, 'secret.yaml'), join(h.root, 'link.yaml'));
  symlinkSync(outside, join(h.root, 'linkdir'));
  writeFileSync(join(h.root, 'pipelines', 'escape.yaml'), includer(`../../${outside.split('/').pop()}/secret.yaml`));
  writeFileSync(join(h.root, 'pipelines', 'middle.yaml'), includer(join(outside, 'secret.yaml')));
  writeFileSync(join(h.root, 'pipelines', 'top.yaml'), includer('middle.yaml'));
});
afterAll(async () => {
  await h.close();
});

async function expectRefused(json: unknown, path: RegExp) {
  const res = await h.call('/runs', { json });
  const body = (await res.json()) as any;
  expect(res.status, JSON.stringify(body)).toBe(422);
  expect(body.diagnostics[0].message).toMatch(/is outside the pipelines directory/);
  expect(body.diagnostics[0].path).toMatch(path);
  expect(body.diagnostics[0].hint).toMatch(/--root/);
}

describe('serve --root confines what a pipeline names', () => {
  it('refuses a `file:` step leading out: `..`, absolute path, symlinked file or folder (422)', async () => {
    const rel = `../${outside.split('/').pop()}/secret.yaml`;
    for (const file of [rel, join(outside, 'secret.yaml'), 'link.yaml', 'linkdir/secret.yaml']) {
      await expectRefused({ yaml: includer(file), mock: true }, /^steps\[1\]\.file$/);
    }
    // By file too, and through a file it includes.
    await expectRefused({ file: 'pipelines/escape.yaml', mock: true }, /^steps\[1\]\.file$/);
    await expectRefused({ file: 'pipelines/top.yaml', mock: true }, /^steps\[1\]\.file$/);
    expect((await h.store.listRuns({ limit: 100 })).length).toBe(0);
  });

  it('refuses a tool module outside the root (422), and never imports it', async () => {
    const yaml = `name: tools\nsteps:\n  - name: s\n    type: mock\n    prompt: hi\n    tools:\n      - name: evil\n        description: d\n        module: ${JSON.stringify(join(outside, 'evil.mjs'))}\n`;
    await expectRefused({ yaml, mock: true }, /^steps\[0\]\.tools\[0\]\.module$/);
    // Inside an inline child pipeline as well.
    const nested = `name: nested\nsteps:\n  - name: c\n    type: pipeline\n    pipeline:\n${yaml
      .split('\n')
      .map((l) => (l ? `      ${l}` : l))
      .join('\n')}`;
    await expectRefused({ yaml: nested, mock: true }, /^steps\[0\]\.pipeline\.steps\[0\]\.tools\[0\]\.module$/);
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(marker())).toBe(false);
  });

  it('still runs pipelines that include files inside the root, names starting with `..` included', async () => {
    mkdirSync(join(h.root, '..drafts'));
    writeFileSync(join(h.root, '..drafts', 'child.yaml'), SECRET.replace('the secret', 'inside'));
    const res = await h.call('/runs', { json: { yaml: includer('..drafts/child.yaml'), mock: true } });
    expect(res.status).toBe(202);
    const run = await waitForStatus(h, ((await res.json()) as any).run_id, 'succeeded');
    expect(run.outputs.child).toEqual({ leaked: 'inside' });
  });

  it('refuses at run time an included file that has become a symlink out of the root', async () => {
    writeFileSync(join(h.root, 'swap.yaml'), SECRET.replace('the secret', 'inside'));
    const res = await h.call('/runs', { json: { yaml: includer('swap.yaml', '400ms'), mock: true } });
    expect(res.status).toBe(202);
    const { run_id } = (await res.json()) as any;
    rmSync(join(h.root, 'swap.yaml'));
    symlinkSync(join(outside, 'secret.yaml'), join(h.root, 'swap.yaml'));
    const run = await waitForStatus(h, run_id, 'failed');
    expect(run.error).toMatch(/outside the pipelines directory/);
    expect(JSON.stringify(run)).not.toMatch(/the secret/);
  });
});

describe('resuming confines too', () => {
  it('refuses over HTTP to resume a run whose pipeline file is outside the root (403)', async () => {
    const loaded = await loadPipeline(join(outside, 'secret.yaml'));
    const handle = await h.service.engine.start(loaded, { mock: true });
    await handle.result;
    await h.store.updateRun(handle.runId, { status: 'failed' });
    const res = await h.call(`/runs/${handle.runId}/resume`, { method: 'POST' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error).toMatch(/outside the pipelines directory/);
  });

  it('refuses to resume a run whose included file now leads out of the root (422)', async () => {
    writeFileSync(join(h.root, 'later.yaml'), SECRET.replace('the secret', 'inside'));
    writeFileSync(join(h.root, 'resumed.yaml'), includer('later.yaml', '1s'));
    const res = await h.call('/runs', { json: { file: 'resumed.yaml', mock: true } });
    const { run_id } = (await res.json()) as any;
    await new Promise((r) => setTimeout(r, 100));
    expect((await h.call(`/runs/${run_id}/cancel`, { method: 'POST' })).status).toBe(202);
    await waitForStatus(h, run_id, 'cancelled');
    writeFileSync(join(h.root, 'later.yaml'), includer(join(outside, 'secret.yaml')));
    const resume = await h.call(`/runs/${run_id}/resume`, { method: 'POST' });
    const body = (await resume.json()) as any;
    expect(resume.status, JSON.stringify(body)).toBe(422);
    expect(body.diagnostics[0].message).toMatch(/outside the pipelines directory/);
  });

  it('keeps a run submitted over HTTP confined when the CLI resumes it (the root is journaled with the run)', async () => {
    writeFileSync(join(h.root, 'cli.yaml'), SECRET.replace('the secret', 'inside'));
    writeFileSync(join(h.root, 'cli-top.yaml'), includer('cli.yaml', '1s'));
    const res = await h.call('/runs', { json: { file: 'cli-top.yaml', mock: true } });
    const { run_id } = (await res.json()) as any;
    await new Promise((r) => setTimeout(r, 100));
    expect((await h.call(`/runs/${run_id}/cancel`, { method: 'POST' })).status).toBe(202);
    await waitForStatus(h, run_id, 'cancelled');
    rmSync(join(h.root, 'cli.yaml'));
    symlinkSync(join(outside, 'secret.yaml'), join(h.root, 'cli.yaml'));
    // As `elexirion resume` does: the engine reloads the file with no root of its own.
    const run = await (await h.service.engine.resume(run_id)).result;
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/outside the pipelines directory/);
    expect(JSON.stringify(run)).not.toMatch(/the secret/);
  });
});
