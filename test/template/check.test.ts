import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Pipeline } from '../../src/config/schema.js';
import { checkTemplates, type TemplateIssue } from '../../src/template/check.js';

/** The pipeline of PIPELINE_FORMAT.md, whose templates are all valid. */
const CODE_REVIEW = `
name: code-review
inputs:
  source_files: { type: array, default: [] }
  focus: { type: string, default: bugs }
steps:
  - name: plan
    type: gemini
    prompt: |
      Plan a review of {{ source_files | size }} files, focusing on {{ focus }}.
  - name: parallel_analysis
    type: claude_batch
    items: "{{ source_files }}"
    step_template:
      type: claude
      prompt: "Analyze this file: {{ item }} ({{ index }})\\nPlan: {{ steps.plan.output }}"
  - name: summary
    type: gemini_structured
    prompt: "Summarize: {{ steps.parallel_analysis.output | json }}"
    schema: { type: object }
  - name: fix
    type: claude
    when: "{{ steps.summary.output.verdict == 'needs_work' }}"
    prompt: "Propose fixes for: {{ steps.summary.output.issues | join: ', ' }}"
    on_error: continue
    fallback: { type: gemini, prompt: "Propose fixes for: {{ steps.summary.output.issues | join: ', ' }}" }
outputs:
  verdict: "{{ steps.summary.output.verdict }}"
  fixes: "{{ steps.fix.output }}"
`;

function check(yamlText: string): TemplateIssue[] {
  return checkTemplates(parse(yamlText) as Pipeline);
}

/** A pipeline with one input `focus`, a root variable `tone`, a step `first`, then `steps`. */
function withSteps(stepsYaml: string, extra = ''): string {
  return `
name: t
inputs: { focus: { type: string } }
variables: { tone: terse }
steps:
  - { name: first, type: mock, prompt: "hello" }
${stepsYaml}
${extra}`;
}

function only(issues: TemplateIssue[]): TemplateIssue {
  expect(issues).toHaveLength(1);
  return issues[0] as TemplateIssue;
}

describe('checkTemplates', () => {
  it('accepts the pipeline of the format description', () => {
    expect(check(CODE_REVIEW)).toEqual([]);
  });

  describe('syntax and filters', () => {
    it('reports a Liquid syntax error at its offset', () => {
      const issue = only(check(withSteps('  - { name: a, type: mock, prompt: "x {% if focus %} open" }')));
      expect(issue.path).toEqual(['steps', 1, 'prompt']);
      expect(issue.message).toMatch(/not closed/);
      expect(issue.offset).toBe(2);
      expect(issue.hint).toContain('`{% if … %}` needs `{% endif %}`');
    });

    it('says what to check for any other syntax error', () => {
      const issue = only(check(withSteps('  - { name: a, type: mock, prompt: "{% frobnicate %}" }')));
      expect(issue.message).toMatch(/^template error: /);
      expect(issue.hint).toContain('values go in `{{ … }}`, logic in `{% … %}`');
    });

    it('reports an unknown filter with a suggestion', () => {
      const issue = only(check(withSteps('  - { name: a, type: mock, prompt: "{{ focus | upcse }}" }')));
      expect(issue.message).toContain('unknown filter "upcse"');
      expect(issue.hint).toBe('did you mean "upcase"?');
      expect(issue.offset).toBe(11);
    });

    it('still checks the names of a template whose filter is unknown', () => {
      const issues = check(withSteps('  - { name: a, type: mock, prompt: "{{ focus | upcse }} {{ fcous }}" }'));
      expect(issues.map((i) => i.message)).toEqual(['template error: unknown filter "upcse"', 'unknown name "fcous"']);
    });

    it('accepts the custom filters', () => {
      const prompt = '{{ focus | json: 2 }} {{ focus | yaml }} {{ focus | truncate_tokens: 10 }}';
      expect(check(withSteps(`  - { name: a, type: mock, prompt: "${prompt}" }`))).toEqual([]);
    });

    it('reports a truncate_tokens that would fail when rendered: no number, or a literal that is not one', () => {
      const cases: [string, string][] = [
        ['{{ focus | truncate_tokens }}', 'takes one argument, the number of tokens; got none'],
        ['{{ focus | truncate_tokens: -5 }}', 'needs a whole number of tokens, got -5'],
        ["{{ focus | truncate_tokens: '100' }}", "needs a whole number of tokens, got '100'"],
        ['{{ focus | truncate_tokens: 1.5 }}', 'needs a whole number of tokens, got 1.5'],
        ['{{ focus | truncate_tokens: 10, 2 }}', 'takes one argument, the number of tokens; got 2'],
        [
          '{% if focus %}{% assign t = focus | truncate_tokens: nil %}{{ t }}{% endif %}',
          'needs a whole number of tokens, got nil',
        ],
      ];
      for (const [prompt, message] of cases) {
        const issue = only(check(withSteps(`  - { name: a, type: mock, prompt: "${prompt}" }`)));
        expect(issue.message, prompt).toBe(`template error: truncate_tokens ${message}`);
        expect(issue.hint).toBe('give a whole number of tokens, such as truncate_tokens: 1000');
        expect(issue.offset, prompt).toBe(prompt.indexOf('truncate_tokens'));
      }
    });

    it('leaves a truncate_tokens argument read from the scope to the render', () => {
      const prompt = '{{ focus | truncate_tokens: tone }} {{ focus | truncate_tokens: 0 }}';
      expect(check(withSteps(`  - { name: a, type: mock, prompt: "${prompt}" }`))).toEqual([]);
      // A template that does not parse is reported once, for its syntax.
      const broken = check(withSteps('  - { name: a, type: mock, prompt: "{{ focus | upcse | truncate_tokens }}" }'));
      expect(broken.map((i) => i.message)).toEqual(['template error: unknown filter "upcse"']);
    });
  });

  describe('step references', () => {
    it('reports an unknown step with did-you-mean', () => {
      const issue = only(check(withSteps('  - { name: a, type: mock, prompt: "{{ steps.frist.output }}" }')));
      expect(issue).toMatchObject({ path: ['steps', 1, 'prompt'], message: 'unknown step "frist"', offset: 3 });
      expect(issue.hint).toBe('did you mean "first"?');
    });

    it('reports a later step', () => {
      const issue = only(
        check(
          withSteps(`  - { name: a, type: mock, prompt: "{{ steps.b.output }}" }
  - { name: b, type: mock, prompt: "{{ steps.a.output }} {{ steps.first.output }}" }`),
        ),
      );
      expect(issue.path).toEqual(['steps', 1, 'prompt']);
      expect(issue.message).toBe('step "b" runs after this one; only earlier steps can be read');
    });

    it('reports a step reading itself', () => {
      const issue = only(check(withSteps('  - { name: a, type: mock, when: "{{ steps.a.status }}", prompt: x }')));
      expect(issue).toMatchObject({ path: ['steps', 1, 'when'], message: 'step "a" cannot read its own result' });
    });

    it('accepts each field of a step and reports any other', () => {
      const fields = ['output', 'usage', 'cost_usd', 'status', 'error'].map((f) => `{{ steps.first.${f} }}`).join(' ');
      expect(check(withSteps(`  - { name: a, type: mock, prompt: "${fields} {{ steps.first }}" }`))).toEqual([]);
      const issue = only(check(withSteps('  - { name: a, type: mock, prompt: "{{ steps.first.outptu }}" }')));
      expect(issue.message).toBe('steps.first has no field "outptu"');
      expect(issue.hint).toBe('did you mean "output"?');
    });
  });

  describe('parallel groups', () => {
    const group = (subPrompt: string, after = '{{ steps.group.output.x }} {{ steps.y.output }}') =>
      withSteps(`  - name: group
    type: parallel
    steps:
      - { name: x, type: mock, prompt: "{{ steps.first.output }}" }
      - { name: y, type: mock, prompt: "${subPrompt}" }
  - { name: after, type: mock, prompt: "${after}" }`);

    it('lets a later step read the group and each sub-step', () => {
      expect(check(group('{{ focus }}'))).toEqual([]);
    });

    it('reports a sub-step reading a sibling of the same group', () => {
      const issue = only(check(group('{{ steps.x.output }}')));
      expect(issue.path).toEqual(['steps', 1, 'steps', 1, 'prompt']);
      expect(issue.message).toContain('step "x" runs at the same time as this one (parallel group "group")');
    });

    it('reports a sub-step reading its own group', () => {
      const issue = only(check(group('{{ steps.group.output }}')));
      expect(issue.message).toContain('is the parallel group this step belongs to');
    });

    it('reports a group reading one of its own sub-steps', () => {
      const issue = only(
        check(
          withSteps(`  - name: group
    type: parallel
    when: "{{ steps.x.status }}"
    steps: [{ name: x, type: mock, prompt: p }]`),
        ),
      );
      expect(issue).toMatchObject({ path: ['steps', 1, 'when'] });
      expect(issue.message).toContain('is part of this step');
    });
  });

  describe('names', () => {
    it('accepts inputs and variables at top level and by namespace, and run', () => {
      const prompt = '{{ focus }} {{ inputs.focus }} {{ tone }} {{ variables.tone }} {{ run.id }} {{ run.pipeline }}';
      expect(check(withSteps(`  - { name: a, type: mock, prompt: "${prompt}" }`))).toEqual([]);
    });

    it('reports an undeclared name with did-you-mean over the names in scope', () => {
      const issue = only(check(withSteps('  - { name: a, type: mock, prompt: "Say {{ fcous }}" }')));
      expect(issue).toMatchObject({ path: ['steps', 1, 'prompt'], message: 'unknown name "fcous"', offset: 7 });
      expect(issue.hint).toBe('did you mean "focus"?');
    });

    it('suggests steps.NAME.output when a step is read as a top-level name', () => {
      const issue = only(check(withSteps('  - { name: a, type: mock, prompt: "{{ first }}" }')));
      expect(issue.hint).toBe('to read the step "first", write steps.first.output');
    });

    it('reports unknown inputs, variables and run fields', () => {
      const issues = check(
        withSteps('  - { name: a, type: mock, prompt: "{{ inputs.focs }} {{ variables.tome }} {{ run.started }}" }'),
      );
      expect(issues.map((i) => [i.message, i.hint])).toEqual([
        ['unknown input "focs"', 'did you mean "focus"?'],
        ['unknown variable "tome"', 'did you mean "tone"?'],
        ['run has no field "started"', 'run has id and pipeline'],
      ]);
    });

    it('ignores locals declared by the template itself', () => {
      const prompt = '{% assign n = focus | size %}{% for c in focus %}{{ c }}{{ forloop.index }}{% endfor %}{{ n }}';
      expect(check(withSteps(`  - { name: a, type: mock, prompt: "${prompt}" }`))).toEqual([]);
    });

    it('reports an input named like a built-in', () => {
      const issues = check('name: t\ninputs: { run: { type: string } }\nsteps: [{ name: a, type: mock, prompt: x }]');
      expect(only(issues).path).toEqual(['inputs', 'run']);
    });

    it('reports a variable set by a set_variable step named like a built-in, at its name', () => {
      const issues = check(`
name: t
steps:
  - { name: setv, type: set_variable, variables: { run: my label, label: fine } }
  - name: group
    type: parallel
    steps:
      - { name: inner, type: set_variable, variables: { steps: 3 } }
  - { name: use, type: mock, prompt: "{{ label }}" }
`);
      expect(issues).toEqual([
        {
          path: ['steps', 0, 'variables', 'run'],
          message:
            'the variable name "run" is a built-in name of the template scope: {{ run }} reads the run (its id and pipeline), not this variable',
          hint: 'rename the variable, say to "run_value", here and where templates read it (inputs, variables, steps and run are taken)',
          at: 'key',
        },
        expect.objectContaining({
          path: ['steps', 1, 'steps', 0, 'variables', 'steps'],
          message: expect.stringContaining('{{ steps }} reads all the steps, not this variable'),
        }),
      ]);
    });

    it.each(['true', 'false', 'nil', 'null', 'empty', 'blank'])(
      'reports an input or a variable named like the Liquid literal %s, which {{ NAME }} never reads',
      (literal) => {
        const issues = check(`
name: t
inputs: { "${literal}": { type: string, default: x } }
variables: { "${literal}": y }
steps:
  - { name: setv, type: set_variable, variables: { "${literal}": z } }
  - name: inline
    type: pipeline
    pipeline:
      name: inner
      inputs: { "${literal}": { type: string, default: x } }
      steps: [{ name: c, type: mock, prompt: x }]
`);
        expect(issues.map((i) => [i.path.join('.'), i.at])).toEqual([
          [`inputs.${literal}`, 'key'],
          [`variables.${literal}`, 'key'],
          [`steps.0.variables.${literal}`, 'key'],
          [`steps.1.pipeline.inputs.${literal}`, 'key'],
        ]);
        expect(issues[0]?.message).toMatch(
          new RegExp(
            `^the input name "${literal}" is a Liquid literal: \\{\\{ ${literal} \\}\\} is .*, not this input$`,
          ),
        );
        expect(issues[0]?.hint).toBe(
          `rename the input, say to "${literal}_value", here and where templates read it (true, false, nil, null, empty and blank are taken)`,
        );
      },
    );

    it('accepts names that only start like a literal or a built-in', () => {
      const pipeline = `
name: t
inputs: { empty_text: { type: string, default: x }, nil_count: { type: number, default: 0 } }
variables: { true_story: y, runs: 2 }
steps:
  - { name: setv, type: set_variable, variables: { blank_line: z, step_count: 1 } }
  - { name: use, type: mock, prompt: "{{ empty_text }} {{ nil_count }} {{ true_story }} {{ runs }} {{ blank_line }} {{ step_count }}" }
`;
      expect(check(pipeline)).toEqual([]);
    });
  });

  describe('item and index', () => {
    const batch = (items: string, prompt: string, when = '') =>
      withSteps(`  - name: b
    type: batch
    items: "${items}"
    ${when}
    step_template: { type: mock, prompt: "${prompt}", fallback: { prompt: "{{ item }}" } }`);

    it('are readable inside a step_template, including its fallback', () => {
      expect(check(batch('{{ focus }}', '{{ index }}: {{ item }} {{ steps.first.output }}'))).toEqual([]);
    });

    it('are not readable in items, in when, or in another step', () => {
      const issues = check(batch('{{ item }}', 'x', 'when: "{{ index }}"'));
      expect(issues.map((i) => i.path)).toEqual([
        ['steps', 1, 'when'],
        ['steps', 1, 'items'],
      ]);
      expect(issues[0]?.message).toBe('"index" exists only inside the step_template of a batch step');
      expect(only(check(withSteps('  - { name: a, type: mock, prompt: "{{ item }}" }'))).message).toContain('"item"');
    });

    it('say how to read an input named like them, which the bare name does not reach', () => {
      const named = `
name: t
inputs: { item: { type: string, default: x } }
steps:
  - { name: a, type: mock, prompt: "{{ item }}" }
`;
      expect(only(check(named)).hint).toBe(
        'the input "item" is read as inputs.item ("item" alone is a batch item\'s), or rename it',
      );
      expect(check(named.replace('{{ item }}', '{{ inputs.item }}'))).toEqual([]);
    });

    it('report a step_template problem at its path', () => {
      const issue = only(check(batch('{{ focus }}', '{{ steps.b.output }}')));
      expect(issue.path).toEqual(['steps', 1, 'step_template', 'prompt']);
      expect(issue.message).toContain('cannot read its own result');
    });
  });

  describe('set_variable', () => {
    const pipeline = (before: string, after: string) =>
      withSteps(`  - { name: early, type: mock, prompt: "${before}" }
  - { name: set, type: set_variable, variables: { lang: "{{ steps.first.output | downcase }}", echo: "{{ lang }}" } }
  - { name: late, type: mock, prompt: "${after}" }`);

    it('makes a variable visible to later steps only', () => {
      expect(check(pipeline('x', '{{ lang }} {{ variables.lang }}')).map((i) => i.message)).toEqual([
        'variable "lang" is not set yet: this step itself sets it; it is visible only to later steps',
      ]);
    });

    it('reports a variable read before the step that sets it', () => {
      const issues = check(pipeline('{{ variables.lang }}', 'x')).filter((i) => i.path[1] === 1);
      expect(only(issues).message).toBe('variable "lang" is not set yet: step "set" sets it, and runs after this one');
    });

    it('lets outputs read variables set by steps', () => {
      const issues = check(pipeline('x', 'x').concat('\noutputs: { l: "{{ lang }}" }'));
      expect(issues.map((i) => i.path)).toEqual([['steps', 2, 'variables', 'echo']]);
    });
  });

  describe('outputs and root variables', () => {
    it('lets outputs read any step, sub-steps included, but not unknown ones', () => {
      const text = withSteps(
        '  - { name: g, type: parallel, steps: [{ name: s, type: mock, prompt: p }] }',
        'outputs: { a: "{{ steps.first.output }}", b: { c: ["{{ steps.s.output }}", "{{ steps.nope.output }}"] } }',
      );
      const issue = only(check(text));
      expect(issue.path).toEqual(['outputs', 'b', 'c', 1]);
      expect(issue.message).toBe('unknown step "nope"');
    });

    it('lets root variables read inputs and run, not steps or other variables', () => {
      const text = `
name: t
inputs: { focus: { type: string } }
variables: { a: "{{ focus }} {{ run.id }}", b: "{{ steps.s.output }}", c: "{{ a }}" }
steps: [{ name: s, type: mock, prompt: p }]`;
      const issues = check(text);
      expect(issues.map((i) => i.path)).toEqual([
        ['variables', 'b'],
        ['variables', 'c'],
      ]);
      expect(issues[0]?.message).toBe('root variables are set before any step runs, so they cannot read steps.s');
    });
  });

  describe('inline child pipelines', () => {
    const parent = (childPrompt: string, inputValue: string) =>
      withSteps(`  - name: child
    type: pipeline
    inputs: { topic: "${inputValue}" }
    pipeline:
      name: inner
      inputs: { topic: { type: string } }
      steps:
        - { name: one, type: mock, prompt: "{{ topic }}" }
        - { name: two, type: mock, prompt: "${childPrompt}" }`);

    it('checks the child against its own scope and the inputs against the parent scope', () => {
      expect(
        check(parent('{{ steps.one.output }} {{ inputs.topic }}', '{{ steps.first.output }} {{ focus }}')),
      ).toEqual([]);
    });

    it('reports a child reading the parent scope', () => {
      const issues = check(parent('{{ focus }} {{ steps.first.output }}', 'x'));
      expect(issues.map((i) => [i.path, i.message])).toEqual([
        [['steps', 1, 'pipeline', 'steps', 1, 'prompt'], 'unknown name "focus"'],
        [['steps', 1, 'pipeline', 'steps', 1, 'prompt'], 'unknown step "first"'],
      ]);
    });

    it('reports a pipeline input reading the child steps', () => {
      const issue = only(check(parent('x', '{{ steps.one.output }}')));
      expect(issue.path).toEqual(['steps', 1, 'inputs', 'topic']);
    });
  });

  describe('which strings are templates', () => {
    it('checks messages, system, response, cwd and fallback lists', () => {
      const text = withSteps(`  - name: a
    type: mock
    system: "{{ n1 }}"
    messages: [{ role: user, content: "{{ n2 }}" }]
    response: { text: ["{{ n3 }}"] }
    fallback: [{ prompt: "{{ n4 }}" }]
  - { name: code, type: claude_code, prompt: ok, cwd: "{{ n5 }}" }`);
      expect(check(text).map((i) => i.path)).toEqual([
        ['steps', 1, 'system'],
        ['steps', 1, 'response', 'text', 0],
        ['steps', 1, 'messages', 0, 'content'],
        ['steps', 1, 'fallback', 0, 'prompt'],
        ['steps', 2, 'cwd'],
      ]);
    });

    it('leaves configuration fields alone', () => {
      const text = withSteps(`  - name: a
    type: mock
    description: "uses {{ nothing }}"
    model: "{{ not_a_template }}"
    schema: { description: "{{ nor_this }}" }
    prompt: ok`);
      expect(check(text)).toEqual([]);
    });
  });

  describe('a pipeline the schema also rejects', () => {
    it('skips malformed entries instead of crashing, keeping the document paths', () => {
      const broken = parse(`
name: t
inputs: 7
steps:
  - null
  - 5
  - { name: a, type: batch, step_template: nope, prompt: "{{ x }}" }
  - { name: g, type: parallel, steps: "not a list" }
  - { name: c, type: pipeline, pipeline: 3 }
`);
      expect(checkTemplates(broken as Pipeline).map((i) => [i.path, i.message])).toEqual([
        [['steps', 2, 'prompt'], 'unknown name "x"'],
      ]);
      expect(checkTemplates({ name: 't' } as Pipeline)).toEqual([]);
    });
  });
});
