// A batch's step_template is one model call. A step type that is none (a nested pipeline, a parallel
// group …) is refused with one problem that says why and what to do — not followed by its own keys
// (`file:`, `inputs:`) reported as unknown, which buried it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'elexirion-step-template-'));

async function diagnosticsOf(template: string[]): Promise<ConfigError['diagnostics']> {
  const file = join(dir, `p-${Math.random().toString(36).slice(2)}.yaml`);
  const head = ['name: p', 'steps:', '  - name: each', '    type: batch', '    items: [1, 2]', '    step_template:'];
  writeFileSync(file, [...head, ...template.map((l) => `      ${l}`), ''].join('\n'));
  const error = await loadPipeline(file).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).diagnostics;
}

describe('a step_template that is no model call', () => {
  it('a nested pipeline: one problem at its type, saying a child pipeline may run a batch instead', async () => {
    const diagnostics = await diagnosticsOf(['type: pipeline', 'file: child.yaml', 'inputs: { n: "{{ item }}" }']);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ line: 7, col: 13, path: 'steps[0].step_template.type' });
    expect(diagnostics[0]?.message).toContain('the string "pipeline" is not allowed here: expected one of claude');
    expect(diagnostics[0]?.hint).toBe(
      'a batch maps one model call over its items: a "pipeline" step cannot be its step_template; a child pipeline may run a batch instead',
    );
  });

  it('a parallel group: the same, without the pipeline advice', async () => {
    const diagnostics = await diagnosticsOf(['type: parallel', 'steps: []']);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]?.hint).toBe(
      'a batch maps one model call over its items: a "parallel" step cannot be its step_template',
    );
  });

  it('a misspelt call type still gets its did-you-mean, and unknown keys of a call are still reported', async () => {
    const diagnostics = await diagnosticsOf(['type: mokc', 'prompt: hi']);
    expect(diagnostics.map((d) => d.hint)).toEqual(['did you mean "mock"?']);
    const keys = await diagnosticsOf(['type: mock', 'prompt: hi', 'file: x.yaml']);
    expect(keys.map((d) => d.message)).toEqual(['unknown key "file"']);
  });
});
