import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newEngine, pipelineFile, runYaml, step, tempDir } from './harness.js';

describe('engine: a run end to end on the mock provider', () => {
  it('chains steps through templates, sets variables and renders outputs', async () => {
    const engine = newEngine();
    const result = await runYaml(
      engine,
      `
name: chain
inputs:
  topic: { type: string, default: durability }
steps:
  - name: vars
    type: set_variable
    variables: { tone: dry }
  - name: draft
    type: mock
    prompt: "Write about {{ topic }} in a {{ tone }} tone"
    response: "draft on {{ topic }} ({{ tone }})"
  - name: review
    type: mock
    prompt: "Review: {{ steps.draft.output }}"
    response: "ok: {{ steps.draft.output | upcase }}"
outputs:
  final: "{{ steps.review.output }}"
  draft_status: "{{ steps.draft.status }}"
`,
      { inputs: { topic: 'journals' } },
    );
    expect(result.status).toBe('succeeded');
    expect(result.outputs).toEqual({ final: 'ok: DRAFT ON JOURNALS (DRY)', draft_status: 'succeeded' });
    expect(result.steps.map((s) => s.name)).toEqual(['vars', 'draft', 'review']);
    expect(step(result, 'draft').usage.input_tokens).toBeGreaterThan(0);
    expect(result.totals.calls).toBe(2);
  });

  it('the mock is deterministic: the same request gets the same answer in two runs', async () => {
    const yaml = `
name: det
steps:
  - name: a
    type: mock
    prompt: "same prompt"
    cache: false
`;
    const first = await runYaml(newEngine(), yaml);
    const second = await runYaml(newEngine(), yaml);
    expect(step(first, 'a').output).toEqual(step(second, 'a').output);
    expect(String(step(first, 'a').output)).toContain('same prompt');
  });

  it('gives schema-valid objects for structured steps', async () => {
    const result = await runYaml(
      newEngine(),
      `
name: structured
steps:
  - name: triage
    type: mock
    prompt: "Classify"
    schema:
      type: object
      required: [severity, tags]
      properties:
        severity: { type: string, enum: [low, high] }
        tags: { type: array, items: { type: string }, minItems: 1 }
        score: { type: integer, minimum: 1, maximum: 5 }
outputs:
  severity: "{{ steps.triage.output.severity }}"
`,
    );
    expect(result.status).toBe('succeeded');
    const output = step(result, 'triage').output as { severity: string; tags: string[]; score: number };
    expect(['low', 'high']).toContain(output.severity);
    expect(output.tags.length).toBeGreaterThan(0);
    expect(output.score).toBeGreaterThanOrEqual(1);
    expect(output.score).toBeLessThanOrEqual(5);
    expect(result.outputs.severity).toBe(output.severity);
  });

  it('skips a step whose `when` is false and records it as skipped', async () => {
    const result = await runYaml(
      newEngine(),
      `
name: cond
inputs:
  go: { type: boolean, default: false }
steps:
  - name: maybe
    type: mock
    when: "{{ go }}"
    prompt: "x"
  - name: always
    type: mock
    when: "{{ steps.maybe.status == 'skipped' }}"
    prompt: "y"
`,
    );
    expect(step(result, 'maybe').status).toBe('skipped');
    expect(step(result, 'always').status).toBe('succeeded');
    expect(result.totals.calls).toBe(1);
  });

  it('retries a failing call (fail_first) and counts the attempts', async () => {
    const result = await runYaml(
      newEngine(),
      `
name: flaky
steps:
  - name: flaky
    type: mock
    prompt: "x"
    fail_first: 2
    retry: { max_attempts: 3, base_delay: 1ms, max_delay: 5ms }
`,
    );
    expect(result.status).toBe('succeeded');
    expect(step(result, 'flaky').attempts).toBe(3);
    expect(step(result, 'flaky').details?.retries).toBe(2);
    expect(result.totals.retries).toBe(2);
  });

  it('fails the run naming the step when retries run out, and keeps earlier steps', async () => {
    const result = await runYaml(
      newEngine(),
      `
name: fails
steps:
  - name: first
    type: mock
    prompt: "fine"
  - name: broken
    type: mock
    prompt: "x"
    fail_first: 5
    retry: { max_attempts: 2, base_delay: 1ms }
  - name: never
    type: mock
    prompt: "y"
`,
    );
    expect(result.status).toBe('failed');
    expect(result.failed_step).toBe('broken');
    expect(result.error).toMatch(/step "broken" failed/);
    expect(step(result, 'first').status).toBe('succeeded');
    expect(step(result, 'broken').status).toBe('failed');
    expect(result.steps.find((s) => s.name === 'never')).toBeUndefined();
  });

  it('on_error: continue records the failure and goes on', async () => {
    const result = await runYaml(
      newEngine(),
      `
name: cont
steps:
  - name: broken
    type: mock
    prompt: "x"
    fail_first: 9
    retry: { max_attempts: 1 }
    on_error: continue
  - name: after
    type: mock
    prompt: "status was {{ steps.broken.status }}"
    response: "{{ steps.broken.status }}"
`,
    );
    expect(result.status).toBe('succeeded');
    expect(step(result, 'broken').status).toBe('failed');
    expect(step(result, 'broken').error).toMatch(/fail_first/);
    expect(step(result, 'after').output).toBe('failed');
  });

  it('falls back to another call when the step fails', async () => {
    const result = await runYaml(
      newEngine(),
      `
name: fb
steps:
  - name: primary
    type: mock
    model: big-model
    prompt: "x"
    fail_first: 9
    retry: { max_attempts: 1 }
    on_error: fallback
    fallback:
      - { model: broken-too, fail_first: 9 }
      - { model: small-model, response: "from the fallback", fail_first: 0 }
`,
    );
    expect(result.status).toBe('succeeded');
    expect(step(result, 'primary').output).toBe('from the fallback');
    expect(step(result, 'primary').details).toMatchObject({ fallback: 1, model: 'small-model' });
  });

  it('enforces a step timeout with an AbortSignal', async () => {
    const started = Date.now();
    const result = await runYaml(
      newEngine(),
      `
name: slow
steps:
  - name: slow
    type: mock
    prompt: "x"
    latency: 10s
    timeout: 100ms
`,
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/timed out after 100 ms|timeout/i);
  });

  it("a fallback's own timeout bounds each of its attempts, not the step's", async () => {
    const result = await runYaml(
      newEngine(),
      `
name: fbt
defaults: { cache: false }
steps:
  - name: a
    type: mock
    prompt: "a"
    latency: 300ms
    timeout: 100ms
    retry: { max_attempts: 1 }
    on_error: fallback
    fallback: { timeout: 2s, response: "from fallback" }
`,
    );
    expect(result.status, result.error).toBe('succeeded');
    expect(step(result, 'a').output).toBe('from fallback');
    expect(step(result, 'a').details).toMatchObject({ fallback: 0 });
  });

  it("a batch item's fallback has its own timeout too", async () => {
    const result = await runYaml(
      newEngine(),
      `
name: bfbt
defaults: { cache: false }
steps:
  - name: items
    type: batch
    items: [1, 2]
    step_template:
      type: mock
      prompt: "i {{ item }}"
      latency: 300ms
      timeout: 100ms
      retry: { max_attempts: 1 }
      fallback: { timeout: 2s, response: "fb {{ item }}" }
outputs:
  o: "{{ steps.items.output }}"
`,
    );
    expect(result.status, result.error).toBe('succeeded');
    expect(result.outputs.o).toEqual(['fb 1', 'fb 2']);
  });

  it('a `when` that cannot be evaluated honours on_error: continue', async () => {
    const yaml = (onError: string) => `
name: whenerr
defaults: { cache: false }
steps:
  - { name: a, type: mock, prompt: "a", response: "plain" }
  - name: b
    type: mock
    prompt: "b"
    when: "{{ steps.a.output.verdict == 'x' }}"
    on_error: ${onError}
  - { name: c, type: mock, prompt: "c", response: "b was {{ steps.b.status }}" }
outputs:
  c: "{{ steps.c.output }}"
`;
    const result = await runYaml(newEngine(), yaml('continue'));
    expect(result.status, result.error).toBe('succeeded');
    expect(step(result, 'b').status).toBe('failed');
    // Placed at the condition in the file (step-template-place.test.ts), which says it is the `when`.
    expect(step(result, 'b').error).toMatch(
      /\.yaml:9:15: undefined variable "steps\.a\.output\.verdict" .* at steps\[1\]\.when\n/,
    );
    expect(step(result, 'b').details).toMatchObject({ continued: true });
    expect(result.outputs.c).toBe('b was failed');

    const failed = await runYaml(newEngine(), yaml('fail'));
    expect(failed.status).toBe('failed');
    expect(failed.failed_step).toBe('b');
    expect(failed.steps.map((s) => s.name)).toEqual(['a', 'b']);
  });

  it('emits typed events in order, with tokens and cost on step.stop', async () => {
    const engine = newEngine();
    const seen: string[] = [];
    let stopTokens = 0;
    engine.bus.onAny((e) => {
      seen.push(e.type);
      if (e.type === 'pipeline.step.stop') stopTokens += e.data.usage.inputTokens;
    });
    await runYaml(engine, `name: ev\nsteps:\n  - name: a\n    type: mock\n    prompt: hello there\n`);
    const lifecycle = seen.filter((t) => t.startsWith('pipeline.execution') || t.startsWith('pipeline.step'));
    expect(lifecycle).toEqual([
      'pipeline.execution.start',
      'pipeline.step.start',
      'pipeline.step.stop',
      'pipeline.execution.stop',
    ]);
    expect(stopTokens).toBeGreaterThan(0);
  });

  it('journals the events of a run with increasing sequence numbers', async () => {
    const engine = newEngine();
    const result = await runYaml(
      engine,
      `name: ev\nsteps:\n  - name: a\n    type: mock\n    prompt: hi\n  - name: b\n    type: mock\n    prompt: ho\n`,
    );
    const events = await engine.store.getEvents(result.run_id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.type)).toContain('pipeline.execution.stop');
    expect(events.filter((e) => e.type === 'pipeline.step.stop')).toHaveLength(2);
  });

  it('rejects bad inputs before creating a run', async () => {
    const engine = newEngine();
    await expect(
      runYaml(
        engine,
        `name: typed\ninputs:\n  n: { type: integer }\nsteps:\n  - name: a\n    type: mock\n    prompt: "{{ n }}"\n`,
        {
          inputs: { n: 'three' },
        },
      ),
    ).rejects.toMatchObject({ exitCode: 2 });
    expect(await engine.store.listRuns()).toEqual([]);
  });

  it('refuses to start when a provider key is missing, naming the variable', async () => {
    const engine = newEngine({ env: {} });
    await expect(
      runYaml(engine, `name: real\nsteps:\n  - name: a\n    type: claude\n    prompt: hi\n`),
    ).rejects.toMatchObject({
      exitCode: 2,
      hint: expect.stringContaining('ANTHROPIC_API_KEY'),
    });
  });

  it('refuses to start when a pipeline it runs from a file needs a missing key: nothing runs first', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'child.yaml'), 'name: child\nsteps:\n  - { name: s, type: claude, prompt: hi }\n');
    const engine = newEngine({ env: {} });
    const { load } = pipelineFile(
      'name: parent\nsteps:\n  - { name: first, type: mock, prompt: hi }\n  - { name: kid, type: pipeline, file: child.yaml }\n',
      dir,
    );
    await expect(engine.start(load())).rejects.toMatchObject({
      exitCode: 2,
      hint: expect.stringContaining('ANTHROPIC_API_KEY'),
    });
    expect(await engine.store.listRuns()).toEqual([]);
  });

  it('with mock: true a pipeline of real providers runs offline', async () => {
    const result = await runYaml(
      newEngine({ env: {} }),
      `name: real\nsteps:\n  - name: a\n    type: claude\n    prompt: hi\n  - name: b\n    type: gemini\n    prompt: "{{ steps.a.output }}"\n`,
      { mock: true },
    );
    expect(result.status).toBe('succeeded');
    expect(step(result, 'a').details?.provider).toBe('mock');
  });

  it('defaults.model goes to the calls of defaults.provider (and mock steps), not to another vendor', async () => {
    const yaml = [
      'name: vendors',
      'defaults: { provider: anthropic, model: claude-opus-4-1 }',
      'steps:',
      '  - { name: general, type: llm, prompt: hi }',
      '  - { name: claude, type: claude, prompt: hi }',
      '  - { name: gemini, type: gemini, prompt: hi }',
      '  - { name: pinned, type: gemini, model: gemini-2.5-pro, prompt: hi }',
      '  - { name: fake, type: mock, prompt: hi }',
      '',
    ].join('\n');
    const result = await runYaml(newEngine({ env: {} }), yaml, { mock: true });
    expect(result.status).toBe('succeeded');
    const models = Object.fromEntries(result.steps.map((s) => [s.name, s.details?.model]));
    expect(models).toEqual({
      general: 'claude-opus-4-1',
      claude: 'claude-opus-4-1',
      gemini: 'gemini-2.5-flash',
      pinned: 'gemini-2.5-pro',
      fake: 'claude-opus-4-1',
    });
    // Without a defaults.provider, the model is every call's (the pipeline said nothing narrower).
    const open = await runYaml(
      newEngine({ env: {} }),
      'name: one\ndefaults: { model: m-1 }\nsteps:\n  - { name: g, type: gemini, prompt: hi }\n',
      { mock: true },
    );
    expect(step(open, 'g').details?.model).toBe('m-1');
  });

  it('answers an identical call from the cache and counts the saving', async () => {
    const engine = newEngine();
    const yaml = `name: cached\nsteps:\n  - name: a\n    type: mock\n    prompt: "identical"\n`;
    await runYaml(engine, yaml);
    const second = await runYaml(engine, yaml);
    expect(step(second, 'a').details?.cache_hits).toBe(1);
    expect(second.totals.cache_hits).toBe(1);
    expect(second.totals.calls).toBe(1);
  });

  it('stops before a call that would exceed the budget', async () => {
    const result = await runYaml(
      newEngine({ env: { ANTHROPIC_API_KEY: 'test-key' } }),
      `
name: budget
budget: { max_tokens: 30 }
steps:
  - name: small
    type: mock
    prompt: "short"
    max_tokens: 10
  - name: big
    type: mock
    prompt: "${'word '.repeat(200)}"
    max_tokens: 10
`,
    );
    expect(result.status).toBe('failed');
    expect(result.failed_step).toBe('big');
    expect(result.error).toMatch(/budget/);
    expect(step(result, 'small').status).toBe('succeeded');
  });
});

describe('engine: what failed attempts cost is never lost', () => {
  const invalidStructured = `
    type: mock
    prompt: "Classify"
    schema:
      type: object
      required: [severity]
      properties: { severity: { type: string, enum: [low, high] } }
    response: { severity: urgent }
    max_repairs: 2
`;

  it('a step that fails after paid repairs records their tokens', async () => {
    const result = await runYaml(newEngine(), `name: paid\nsteps:\n  - name: triage${invalidStructured}`);
    expect(result.status).toBe('failed');
    const triage = step(result, 'triage');
    expect(triage.status).toBe('failed');
    expect(triage.error).toMatch(/severity|enum|schema/i);
    expect(triage.details?.calls).toBe(3); // the answer and two repairs, all paid
    expect(triage.usage.input_tokens).toBeGreaterThan(0);
    expect(result.totals.input_tokens).toBe(triage.usage.input_tokens);
  });

  it('a fallback that succeeds adds to the bill of the attempt that failed', async () => {
    const result = await runYaml(
      newEngine(),
      `name: paid\nsteps:\n  - name: triage${invalidStructured}    fallback: { response: { severity: low } }\n`,
    );
    expect(result.status).toBe('succeeded');
    const triage = step(result, 'triage');
    expect(triage.output).toEqual({ severity: 'low' });
    expect(triage.details?.calls).toBe(4); // three failed calls, then the fallback's one
  });
});

describe('engine: totals and resumes tell the truth', () => {
  it('a fresh run reports, from what it committed, exactly what the journal says afterwards', async () => {
    const engine = newEngine();
    const { load } = pipelineFile(`
name: told-twice
inputs:
  files: { type: array, default: [a.ts, b.ts] }
steps:
  - name: plan
    type: mock
    prompt: "Plan {{ files | join: ', ' }}"
  - name: each
    type: batch
    items: "{{ files }}"
    step_template: { type: mock, prompt: "Review {{ item }}", schema: { type: object, properties: { ok: { type: boolean } } } }
  - name: vars
    type: set_variable
    variables: { count: "{{ steps.each.output | size }}" }
  - name: skipped
    type: mock
    when: "{{ variables.count == 5 }}"
    prompt: never
outputs:
  plan: "{{ steps.plan.output }}"
  reviews: "{{ steps.each.output }}"
`);
    const handle = await engine.start(load(), { mock: true });
    const reported = await handle.result;
    expect(reported.status).toBe('succeeded');
    expect(reported.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'skipped']);
    // Read back from the journal alone (steps, items, the run row).
    expect(await engine.result(handle.runId)).toEqual(reported);
  });

  it('a batch whose items failed after paid attempts still shows their cost in the run totals', async () => {
    const result = await runYaml(
      newEngine(),
      `
name: paid-batch
steps:
  - name: each
    type: batch
    items: [a, b, c]
    on_item_error: continue
    step_template:
      type: mock
      prompt: "Classify {{ item }}"
      schema: { type: object, required: [v], properties: { v: { type: string, enum: [x] } } }
      response: { v: wrong }
      max_repairs: 1
`,
    );
    expect(result.status).toBe('succeeded');
    expect(step(result, 'each').output).toEqual([null, null, null]);
    // Three items × (an answer and a repair), all paid for, none usable.
    expect(result.totals.input_tokens).toBeGreaterThan(0);
    expect(result.totals.output_tokens).toBeGreaterThan(0);
  });

  it('a resumed run that succeeds keeps no error of its earlier attempt', async () => {
    const engine = newEngine();
    const { load } = pipelineFile(
      `name: again\nsteps:\n  - name: slow\n    type: mock\n    prompt: x\n    latency: 300ms\n  - name: after\n    type: mock\n    prompt: y\n`,
    );
    const handle = await engine.start(load());
    setTimeout(() => handle.stop('interrupted'), 50);
    const first = await handle.result;
    expect(first.status).toBe('interrupted');
    expect(first.error).toBeDefined();
    const resumed = await (await engine.resume(first.run_id)).result;
    expect(resumed.status).toBe('succeeded');
    expect(resumed.error).toBeUndefined();
    expect(resumed.failed_step).toBeUndefined();
  });

  it('refuses a second resume of a run while the first is starting', async () => {
    const engine = newEngine();
    const { load } = pipelineFile(
      `name: twice\nsteps:\n  - name: slow\n    type: mock\n    prompt: x\n    latency: 200ms\n`,
    );
    const handle = await engine.start(load());
    handle.stop('interrupted');
    const { run_id } = await handle.result;
    const [a, b] = await Promise.allSettled([engine.resume(run_id), engine.resume(run_id)]);
    expect([a.status, b.status].sort()).toEqual(['fulfilled', 'rejected']);
    const winner = (a.status === 'fulfilled' ? a : b) as PromiseFulfilledResult<
      Awaited<ReturnType<typeof engine.resume>>
    >;
    expect((await winner.value.result).status).toBe('succeeded');
  });

  it('a template error in the pipeline variables fails the run once, without crash restarts', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const result = await runYaml(
      newEngine(),
      `name: badvars\ninputs:\n  cfg: { type: object, default: {} }\nvariables:\n  deep: "{{ cfg.missing.field }}"\nsteps:\n  - name: a\n    type: mock\n    prompt: x\n`,
    );
    process.off('warning', onWarning);
    expect(result.status).toBe('failed');
    // Named at the failing value's place in the file (variables-error-place.test.ts).
    expect(result.error).toMatch(/\.yaml:5:13: undefined variable "cfg\.missing" .* at variables\.deep\n/);
    expect(warnings.filter((w) => /crashed/.test(w))).toEqual([]);
  });
});
