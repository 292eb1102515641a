// What a template reads of a step that did not set something: `steps.NAME.error` of a step without
// an error, the variables of a `set_variable` skipped by its `when:`. The validator lets templates
// read both; at run time they are null — as a skipped step's output is — never an undefined
// variable that fails the run after every step has run.
import { describe, expect, it } from 'vitest';
import { newEngine, runYaml } from './harness.js';

describe('fields a step did not set read as null', () => {
  it('steps.NAME.error of a step that succeeded', async () => {
    const result = await runYaml(
      newEngine(),
      `name: outputs-error
steps:
  - name: a
    type: mock
    prompt: hi
outputs:
  answer: "{{ steps.a.output }}"
  problem: "{{ steps.a.error }}"
`,
      { mock: true },
    );
    expect(result.status).toBe('succeeded');
    expect(result.outputs?.problem ?? null).toBeNull();
  });

  it('the variables of a set_variable skipped by its when:, unless set before', async () => {
    const result = await runYaml(
      newEngine(),
      `name: skipped-setvar
inputs:
  lang: { type: string, default: "" }
steps:
  - name: base
    type: set_variable
    variables: { tone: plain }
  - name: detect
    type: set_variable
    when: "{{ lang }}"
    variables:
      language: "{{ lang }}"
      tone: fancy
  - name: translate
    type: mock
    prompt: "Translate into {{ language | default: 'English' }}, {{ tone }}"
outputs:
  language: "{{ language }}"
  tone: "{{ tone }}"
`,
      { mock: true },
    );
    expect(result.status).toBe('succeeded');
    expect(result.steps.find((s) => s.key === 'translate')?.output).toContain('Translate into English, plain');
    expect(result.outputs).toMatchObject({ language: null, tone: 'plain' });
  });
});
