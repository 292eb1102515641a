import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { ConfigError } from '../../src/errors.js';
import { createHarness, type Harness } from './batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const child = JSON.stringify({
  name: 'child',
  inputs: { topic: { type: 'string', required: true } },
  steps: [
    // Same name as a parent step: the child's scope is its own.
    { name: 'draft', type: 'mock', prompt: 'draft {{ topic }}', response: 'draft of {{ topic }}' },
    {
      name: 'polish',
      type: 'mock',
      prompt: 'sleep 20 polish {{ steps.draft.output }}',
      response: 'polished {{ topic }}',
    },
  ],
  outputs: { text: '{{ steps.polish.output }}', draft: '{{ steps.draft.output }}' },
});

const parent = (sub: Record<string, unknown>) =>
  JSON.stringify({
    name: 'parent',
    inputs: { word: { type: 'string', default: 'otters' } },
    steps: [
      { name: 'draft', type: 'mock', prompt: 'parent draft', response: 'PARENT' },
      { name: 'sub', type: 'pipeline', inputs: { topic: '{{ word }}' }, ...sub },
      { name: 'use', type: 'mock', prompt: 'use', response: '{{ steps.sub.output.text }} / {{ steps.draft.output }}' },
    ],
    outputs: { final: '{{ steps.use.output }}' },
  });

describe('pipeline step', () => {
  it('runs a pipeline file with rendered inputs; its outputs are the step output; its steps journaled under the parent', async () => {
    h.write('child.yaml', child);
    const result = await h.run(h.write('parent.yaml', parent({ file: 'child.yaml' })));
    expect(result.status).toBe('succeeded');
    expect(result.outputs.final).toBe('polished otters / PARENT');
    const keys = (await h.store.getSteps(result.run_id)).map((s) => s.key).sort();
    expect(keys).toEqual(['draft', 'sub', 'sub/draft', 'sub/polish', 'use']);
    expect(result.steps.find((s) => s.key === 'sub')?.output).toEqual({
      text: 'polished otters',
      draft: 'draft of otters',
    });
  });

  it('runs an inline pipeline the same way', async () => {
    const result = await h.run(h.write('parent.yaml', parent({ pipeline: JSON.parse(child) })));
    expect(result.status).toBe('succeeded');
    expect(result.outputs.final).toBe('polished otters / PARENT');
    expect((await h.store.getSteps(result.run_id)).map((s) => s.key)).toContain('sub/polish');
  });

  it('a resumed parent skips the child steps that finished', async () => {
    const flaky = JSON.parse(child);
    Object.assign(flaky.steps[1], { fail_first: 1, retry: { max_attempts: 1 } });
    h.write('child.yaml', JSON.stringify(flaky));
    const first = await h.run(h.write('parent.yaml', parent({ file: 'child.yaml' })));
    expect(first.status).toBe('failed');
    expect(first.error).toContain('step "sub/polish" failed');
    const resumed = await (await h.engine.resume(first.run_id)).result;
    expect(resumed.status).toBe('succeeded');
    expect(resumed.outputs.final).toBe('polished otters / PARENT');
    expect(h.mock.prompts.filter((p) => p === 'draft otters')).toHaveLength(1);
    expect(h.mock.prompts.filter((p) => p === 'parent draft')).toHaveLength(1);
  });

  it('checks the inputs against the child declarations: names when loading, values when running', async () => {
    h.write('child.yaml', child);
    const missing = h.write(
      'missing.yaml',
      JSON.stringify({
        name: 'parent',
        steps: [{ name: 'sub', type: 'pipeline', file: 'child.yaml', inputs: { topik: 'x' } }],
      }),
    );
    const error = await loadPipeline(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('pipeline file "child.yaml" declares no input "topik"');
    expect((error as Error).message).toContain('pipeline file "child.yaml" requires input "topic", which is not given');

    h.write(
      'typed.yaml',
      JSON.stringify({
        name: 'typed',
        inputs: { n: { type: 'integer', required: true } },
        steps: [{ name: 's', type: 'mock', prompt: '{{ n }}' }],
      }),
    );
    const wrongType = h.write(
      'wrong.yaml',
      JSON.stringify({
        name: 'parent',
        // A template: its value is known only when rendered (a plain `many` is refused at load time).
        steps: [{ name: 'sub', type: 'pipeline', file: 'typed.yaml', inputs: { n: "{{ 'many' }}" } }],
      }),
    );
    const result = await h.run(wrongType);
    expect(result.status).toBe('failed');
    expect(result.error).toContain('input "n" must be integer');
  });

  it("locates an inline child's input error in the parent's file, at the child's declaration", async () => {
    const file = h.write(
      'inline-typed.yaml',
      [
        'name: parent',
        'steps:',
        '  - name: group',
        '    type: parallel',
        '    steps:',
        '      - name: sub',
        '        type: pipeline',
        // A template, checked when rendered (a plain `many` is refused at load time).
        `        inputs: { n: "{{ 'many' }}" }`,
        '        pipeline:',
        '          name: inner',
        '          inputs:',
        '            n: { type: integer, required: true }',
        '          steps:',
        '            - { name: s, type: mock, prompt: "{{ n }}" }',
        '',
      ].join('\n'),
    );
    const result = await h.run(file);
    expect(result.status).toBe('failed');
    // Line 12 is where the child declares `n`; before, the error read `<pipeline inner>:0:0`.
    expect(result.error).toMatch(/inline-typed\.yaml:12:\d+/);
    expect(result.error).toContain('input "n" must be integer');
    expect(result.error).not.toContain('<pipeline inner>');
  });

  it("passes a skipped step's null output to a child input with a default: the default, not a failure", async () => {
    const file = h.write(
      'null-input.yaml',
      JSON.stringify({
        name: 'parent',
        inputs: { deep: { type: 'boolean', default: false } },
        steps: [
          { name: 'extra', type: 'mock', when: '{{ deep }}', prompt: 'deep look', response: 'deep notes' },
          {
            name: 'report',
            type: 'pipeline',
            inputs: { notes: '{{ steps.extra.output }}', extra: '{{ steps.extra.output }}' },
            pipeline: {
              name: 'child',
              inputs: { notes: { type: 'string', default: '(no notes)' }, extra: { type: 'string' } },
              steps: [{ name: 'write', type: 'mock', prompt: 'x', response: 'report: {{ notes }} [{{ extra }}]' }],
              outputs: { text: '{{ steps.write.output }}' },
            },
          },
        ],
        outputs: { report: '{{ steps.report.output.text }}' },
      }),
    );
    const result = await h.run(file);
    // Was: failed, `input "notes" must be string, got null (an empty value)`.
    expect(result.error).toBeUndefined();
    expect(result.outputs).toEqual({ report: 'report: (no notes) []' });
  });

  it('refuses at load time a pipeline that includes itself, directly or through another', async () => {
    const selfIncluding = h.write(
      'self.yaml',
      JSON.stringify({ name: 'self', steps: [{ name: 'again', type: 'pipeline', file: 'self.yaml' }] }),
    );
    await expect(loadPipeline(selfIncluding)).rejects.toThrow(/includes itself: self\.yaml → self\.yaml/);
    h.write('a.yaml', JSON.stringify({ name: 'a', steps: [{ name: 'to_b', type: 'pipeline', file: 'b.yaml' }] }));
    h.write('b.yaml', JSON.stringify({ name: 'b', steps: [{ name: 'to_a', type: 'pipeline', file: 'a.yaml' }] }));
    const top = h.write(
      'top.yaml',
      JSON.stringify({ name: 'top', steps: [{ name: 'go', type: 'pipeline', file: 'a.yaml' }] }),
    );
    const error = await loadPipeline(top).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/a\.yaml → b\.yaml → a\.yaml/);
  });

  it('refuses nesting deeper than the limit', async () => {
    for (let i = 0; i < 10; i++) {
      const step =
        i < 9
          ? [{ name: 'down', type: 'pipeline', file: `level${i + 1}.yaml` }]
          : [{ name: 'leaf', type: 'mock', prompt: 'x' }];
      h.write(`level${i}.yaml`, JSON.stringify({ name: `level${i}`, steps: step }));
    }
    await expect(loadPipeline(`${h.dir}/level0.yaml`)).rejects.toThrow(/nest more than 8 deep/);
    await expect(loadPipeline(`${h.dir}/level2.yaml`)).resolves.toBeTruthy();
  });

  it('journals a batch inside a child pipeline under the parent, item by item', async () => {
    const inner = {
      name: 'inner',
      inputs: { list: { type: 'array', required: true } },
      steps: [
        {
          name: 'each',
          type: 'batch',
          items: '{{ list }}',
          step_template: { type: 'mock', prompt: 'n {{ item }}', response: 'r{{ item }}' },
        },
      ],
      outputs: { all: '{{ steps.each.output }}' },
    };
    const outer = JSON.stringify({
      name: 'outer',
      steps: [{ name: 'nested', type: 'pipeline', inputs: { list: [1, 2, 3] }, pipeline: inner }],
      outputs: { all: '{{ steps.nested.output.all }}' },
    });
    const result = await h.run(h.write('outer.yaml', outer));
    expect(result.status).toBe('succeeded');
    expect(result.outputs.all).toEqual(['r1', 'r2', 'r3']);
    expect(await h.store.countItems(result.run_id, 'nested/each')).toEqual({ succeeded: 3, failed: 0, stopped: 0 });
  });
});
