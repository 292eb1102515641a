// A `set_variable` that does not run (skipped by its `when:`, or failed under `on_error: continue`)
// leaves the variables it would have set as they were. For a name that is also an input, "as they
// were" is the input: before, the skipped step set the variable to null, which hid the input at top
// level — `{{ lang }}` rendered empty and the model was asked to "Translate into ". The same in a
// parallel group, in a child pipeline, and in a resumed run (its scope rebuilt from the journal).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const write = (doc: Record<string, unknown>) => h.write('p.yaml', JSON.stringify({ name: 'lang', ...doc }));

const inputs = {
  lang: { type: 'string', default: 'en' },
  force_french: { type: 'boolean', default: false },
};
const maybeFrench = {
  name: 'maybe_french',
  type: 'set_variable',
  when: '{{ force_french }}',
  variables: { lang: 'fr' },
};
const translate = { name: 'translate', type: 'mock', prompt: 'Translate into {{ lang }}' };

describe('a set_variable that did not run, of a name that is also an input', () => {
  it('leaves {{ NAME }} the input (variables.NAME reads null)', async () => {
    const file = write({
      inputs,
      steps: [maybeFrench, translate],
      outputs: { top: '{{ lang }}', variable: '{{ variables.lang | json }}', input: '{{ inputs.lang }}' },
    });
    const result = await h.run(file);
    expect(result.status).toBe('succeeded');
    expect(h.mock.prompts).toEqual(['Translate into en']);
    expect(result.outputs).toEqual({ top: 'en', variable: 'null', input: 'en' });
  });

  it('still lets the step override the input when it runs, and a later setter after a skipped one', async () => {
    const file = write({
      inputs,
      steps: [
        maybeFrench,
        { name: 'first', type: 'mock', prompt: 'first {{ lang }}' },
        { name: 'german', type: 'set_variable', variables: { lang: 'de' } },
        { name: 'second', type: 'mock', prompt: 'second {{ lang }}' },
      ],
    });
    expect((await h.run(file)).status).toBe('succeeded');
    expect((await h.run(file, { force_french: true })).status).toBe('succeeded');
    expect(h.mock.prompts).toEqual(['first en', 'second de', 'first fr', 'second de']);
  });

  it('failed under on_error: continue', async () => {
    const file = write({
      inputs: { ...inputs, tokens: { type: 'integer', default: -1 } },
      steps: [
        {
          name: 'broken',
          type: 'set_variable',
          on_error: 'continue',
          // Fails when rendered: a negative number of tokens (known only at run time).
          variables: { lang: "{{ 'x' | truncate_tokens: tokens }}" },
        },
        translate,
      ],
    });
    const result = await h.run(file);
    expect(result.status).toBe('succeeded');
    expect(result.steps.find((s) => s.name === 'broken')?.status).toBe('failed');
    expect(h.mock.prompts).toEqual(['Translate into en']);
  });

  it('inside a parallel group', async () => {
    const file = write({
      inputs,
      steps: [
        {
          name: 'group',
          type: 'parallel',
          steps: [maybeFrench, { name: 'side', type: 'mock', prompt: 'side' }],
        },
        translate,
      ],
    });
    expect((await h.run(file)).status).toBe('succeeded');
    expect(h.mock.prompts.filter((p) => p.startsWith('Translate'))).toEqual(['Translate into en']);
  });

  it('in a child pipeline, with the input the pipeline step gave it', async () => {
    const file = write({
      steps: [
        {
          name: 'child',
          type: 'pipeline',
          inputs: { lang: 'it' },
          pipeline: { name: 'inner', inputs, steps: [maybeFrench, translate] },
        },
      ],
    });
    expect((await h.run(file)).status).toBe('succeeded');
    expect(h.mock.prompts).toEqual(['Translate into it']);
  });

  it('in a resumed run, whose scope is rebuilt from the journal', async () => {
    const file = write({
      inputs,
      // Root variables are rendered again on resume, after the journaled steps were published.
      variables: { greeting: 'hello' },
      steps: [
        maybeFrench,
        { name: 'flaky', type: 'mock', prompt: 'flaky', fail_first: 1, retry: { max_attempts: 1 } },
        { ...translate, prompt: '{{ greeting }}: translate into {{ lang }}' },
      ],
    });
    const failed = await h.run(file);
    expect(failed.status).toBe('failed');
    expect(failed.failed_step).toBe('flaky');
    const resumed = await (await h.engine.resume(failed.run_id)).result;
    expect(resumed.status).toBe('succeeded');
    expect(h.mock.prompts.filter((p) => p.startsWith('hello'))).toEqual(['hello: translate into en']);
  });
});
