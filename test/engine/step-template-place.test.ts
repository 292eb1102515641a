// A step's template that fails at run time — a field an object input lacks, a batch item without the
// field the step_template reads — is reported at its place in the pipeline file: file:line:col of
// the failing name, the key path (`at steps[0].prompt`), the template's hint; as failing `outputs:`
// and `variables:` are (variables-error-place.test.ts). Before, the step's error was the template
// text alone, which may be written in several steps, and its hint was lost.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { createHarness, type Harness } from './batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const HINT = "  hint: the name is not in this template's scope; use `| default: …` for a value that may be absent";
const UNDEFINED = 'undefined variable "inputs.doc.title" in template';

/** A pipeline reading an object input `doc`, whose `title` the runs below never give. */
function pipeline(name: string, steps: string[]): string {
  return h.write(
    name,
    ['name: p', 'inputs:', '  doc: { type: object, required: true }', 'steps:', ...steps, ''].join('\n'),
  );
}

describe("a step's own template failing at run time", () => {
  // Each step is on line 5 (after the 4 lines of `pipeline`), or starts there.
  it.each([
    {
      field: 'prompt',
      steps: ['  - { name: s, type: mock, prompt: "Review {{ inputs.doc.title }}" }'],
      at: '5:47',
      path: 'steps[0].prompt',
    },
    {
      field: 'system',
      steps: ['  - { name: s, type: mock, prompt: hi, system: "You review {{ inputs.doc.title }}." }'],
      at: '5:63',
      path: 'steps[0].system',
    },
    {
      field: "a message's content",
      steps: [
        '  - name: s',
        '    type: mock',
        '    messages:',
        '      - { role: user, content: hi }',
        '      - { role: assistant, content: "{{ inputs.doc.title }}" }',
      ],
      at: '9:41',
      path: 'steps[0].messages[1].content',
    },
    {
      field: "a mock's response",
      steps: ['  - { name: s, type: mock, prompt: hi, response: { title: "{{ inputs.doc.title }}" } }'],
      at: '5:63',
      path: 'steps[0].response.title',
    },
    {
      field: "claude_code's prompt (--mock)",
      steps: ['  - { name: s, type: claude_code, prompt: "Fix {{ inputs.doc.title }}" }'],
      at: '5:51',
      path: 'steps[0].prompt',
    },
    {
      field: "a batch's items",
      steps: [
        '  - name: b',
        '    type: batch',
        '    items: "{{ inputs.doc.title }}"',
        '    step_template: { type: mock, prompt: "{{ item }}" }',
      ],
      at: '7:16',
      path: 'steps[0].items',
    },
    {
      field: "a pipeline step's inputs",
      steps: [
        '  - name: sub',
        '    type: pipeline',
        '    inputs: { title: "{{ inputs.doc.title }}" }',
        '    pipeline:',
        '      name: child',
        '      inputs: { title: { type: string } }',
        '      steps: [{ name: s, type: mock, prompt: "{{ inputs.title }}" }]',
      ],
      at: '7:26',
      path: 'steps[0].inputs.title',
    },
    {
      field: 'a sub-step of a parallel group',
      steps: [
        '  - name: g',
        '    type: parallel',
        '    steps:',
        '      - { name: a, type: mock, prompt: hi }',
        '      - { name: b, type: mock, prompt: "{{ inputs.doc.title }}" }',
      ],
      at: '9:44',
      path: 'steps[0].steps[1].prompt',
    },
  ])('$field: file:line:col, key path and hint, in the result and the journal', async ({ steps, at, path }) => {
    const file = pipeline('p.yaml', steps);
    const result = await h.run(file, { doc: {} });
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/^step "[\w/]+" failed: /);
    expect(result.error).toContain(`${file}:${at}: ${UNDEFINED} `);
    expect(result.error).toContain(` at ${path}\n${HINT}`);
    expect((await h.store.getRun(result.run_id))?.error).toBe(result.error);
    const failed = (await h.store.getSteps(result.run_id)).find((s) => s.status === 'failed');
    expect(failed?.error).toContain(`${file}:${at}: `);
  });

  it('the same template in two steps: each failure at its own step', async () => {
    const file = pipeline('twice.yaml', [
      '  - { name: a, type: mock, prompt: "{{ inputs.doc.title }}", on_error: continue }',
      '  - { name: b, type: mock, prompt: "{{ inputs.doc.title }}" }',
    ]);
    const result = await h.run(file, { doc: {} });
    expect(result.error).toContain(
      `step "b" failed: ${file}:6:40: ${UNDEFINED} "{{ inputs.doc.title }}" at steps[1].prompt`,
    );
    const [a] = await h.store.getSteps(result.run_id);
    expect(a?.error).toContain(`${file}:5:40: ${UNDEFINED} "{{ inputs.doc.title }}" at steps[0].prompt`);
  });

  it('a `when`: placed at the condition, also when on_error: continue lets the run go on', async () => {
    const file = pipeline('when.yaml', [
      '  - name: s',
      '    type: mock',
      '    prompt: hi',
      '    when: "{{ inputs.doc.title == \'x\' }}"',
      '    on_error: continue',
    ]);
    const result = await h.run(file, { doc: {} });
    expect(result.status).toBe('succeeded');
    const [record] = await h.store.getSteps(result.run_id);
    expect(record?.error).toBe(`${file}:8:15: ${UNDEFINED} "{{ inputs.doc.title == 'x' }}" at steps[0].when\n${HINT}`);
  });

  it("a fallback's own template at the fallback, an inherited one at the step's", async () => {
    // The mock refuses a prompt with FAIL; the fallback then fails on its own system.
    const file = pipeline('fb.yaml', [
      '  - name: s',
      '    type: mock',
      '    prompt: "FAIL {{ inputs.doc.body }}"',
      '    retry: { max_attempts: 1 }',
      '    fallback: [{ system: "{{ inputs.doc.title }}" }]',
    ]);
    const result = await h.run(file, { doc: { body: 'x' } });
    expect(result.status).toBe('failed');
    expect(result.error).toContain(
      `mock: refused: FAIL x; fallback failed: ${file}:9:30: ${UNDEFINED} "{{ inputs.doc.title }}" at steps[0].fallback[0].system\n`,
    );

    // A fallback that sets no prompt renders the step's: it fails there too.
    const inherited = pipeline('fb2.yaml', [
      '  - name: s',
      '    type: mock',
      '    prompt: "{{ inputs.doc.title }}"',
      '    fallback: { model: other }',
    ]);
    const second = await h.run(inherited, { doc: {} });
    const place = `${inherited}:7:17: ${UNDEFINED} "{{ inputs.doc.title }}" at steps[0].prompt\n${HINT}`;
    // The step's hint stays with it; the fallback's failure follows on a line of its own.
    expect(second.error).toBe(`step "s" failed: ${place}\nfallback failed: ${place}`);
  });

  it("an inline child pipeline's step: in the parent file, below `pipeline:`", async () => {
    const file = pipeline('inline.yaml', [
      '  - name: sub',
      '    type: pipeline',
      '    inputs: { doc: "{{ inputs.doc }}" }',
      '    pipeline:',
      '      name: child',
      '      inputs: { doc: { type: object, required: true } }',
      '      steps: [{ name: s, type: mock, prompt: "{{ inputs.doc.title }}" }]',
    ]);
    const result = await h.run(file, { doc: {} });
    expect(result.status).toBe('failed');
    // The key path is the one in the file: the inline pipeline's own, after its place in the parent.
    expect(result.error).toContain(`step "sub/s" failed: ${file}:11:50: ${UNDEFINED}`);
    expect(result.error).toContain('at steps[0].pipeline.steps[0].prompt');
  });

  it("claude_code's cwd, rendered before a session starts (no --mock)", async () => {
    const file = pipeline('cc.yaml', ['  - { name: s, type: claude_code, prompt: hi, cwd: "{{ inputs.doc.title }}" }']);
    const handle = await h.engine.start(await loadPipeline(file), { inputs: { doc: {} } });
    const result = await handle.result;
    expect(result.status).toBe('failed');
    expect(result.error).toContain(`${file}:5:56: ${UNDEFINED}`);
    expect(result.error).toContain('at steps[0].cwd');
  });
});

describe("a batch's step_template failing for an item", () => {
  const BATCH = (onItemError: string) => [
    '  - name: b',
    '    type: batch',
    '    items: [{ title: first }, { body: second }]',
    `    on_item_error: ${onItemError}`,
    '    step_template:',
    '      type: mock',
    '      prompt: "Title: {{ item.title }}"',
  ];
  const ITEM_ERROR = 'undefined variable "item.title" in template "Title: {{ item.title }}"';

  it("is placed at the step_template's key: the batch's failure", async () => {
    const file = pipeline('batch.yaml', BATCH('fail'));
    const result = await h.run(file, { doc: {} });
    expect(result.status).toBe('failed');
    expect(result.error).toContain(
      `step "b" failed: item 1 of 2 failed: ${file}:11:26: ${ITEM_ERROR} at steps[0].step_template.prompt\n`,
    );
  });

  it("and in each failed item's row, under on_item_error: continue", async () => {
    const file = pipeline('batch.yaml', BATCH('continue'));
    const result = await h.run(file, { doc: {} });
    expect(result.status).toBe('succeeded');
    const items = await h.store.getItems(result.run_id, 'b');
    expect(items.map((i) => i.status)).toEqual(['succeeded', 'failed']);
    expect(items[1]?.error).toBe(`${file}:11:26: ${ITEM_ERROR} at steps[0].step_template.prompt\n${HINT}`);
  });
});
