// The claude_code step end to end: Engine → step handler → Claude Agent SDK → fake `claude`
// executable over the SDK's stream-json protocol, and back into the journal.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { CassettePlayer } from '../../src/journal/cassette.js';
import { FAKE_CLAUDE, isAlive, PASS_FAKE_ENV, SCRIPTED_CLAUDE, waitFor } from './harness.js';
import { useWorkspace } from './per-test.js';

const { ws, tempDir } = useWorkspace();

const step = (fields: string) => `name: code-task
inputs:
  bug: { type: string, default: the off-by-one }
steps:
  - name: fix
    type: claude_code
    executable: ${FAKE_CLAUDE}
    ${PASS_FAKE_ENV}
${fields
  .trim()
  .split('\n')
  .map((line) => `    ${line}`)
  .join('\n')}
outputs:
  answer: "{{ steps.fix.output }}"
`;

describe('claude_code step', () => {
  it('journals the session result: output, usage with cache tokens, cost, turns and session id', async () => {
    const { result, steps } = await ws.run(step('prompt: "Fix {{ bug }} [turns:2]"\nmodel: claude-test-model'));

    expect(result.status).toBe('succeeded');
    expect(result.outputs.answer).toBe('fake claude (claude-test-model) did: Fix the off-by-one');
    const [fix] = steps;
    const started = ws.fakeLog().find((e) => e.event === 'start');
    // Two turns: main loop 2×(100 input + 50 cache read + 10 cache write), 2×20 output; plus the
    // auxiliary model's 7 input / 3 output that only `modelUsage` reports.
    expect(fix?.usage).toEqual({ inputTokens: 327, outputTokens: 43, cacheReadTokens: 100, cacheWriteTokens: 20 });
    expect(fix?.costUsd).toBeCloseTo(0.026, 10);
    expect(fix?.details).toMatchObject({
      provider: 'claude-code',
      model: 'claude-test-model',
      num_turns: 2,
      session_id: `fake-session-${started?.pid}`,
    });
    expect(result.totals.cost_usd).toBeCloseTo(0.026, 10);
    expect(result.totals.calls).toBe(1);
  });

  it('with stream: true emits the assistant text of the session as step chunks', async () => {
    const chunks: string[] = [];
    ws.engine.bus.on('pipeline.step.chunk', (event) => chunks.push(event.text));
    await ws.run(step('prompt: "Explain {{ bug }}"\nstream: true'));

    expect(chunks).toEqual(['fake claude (claude-fake-1) did: Explain the off-by-one']);
  });

  it('with stream: true keeps the texts of successive turns apart, as they read in the session', async () => {
    const chunks: string[] = [];
    ws.engine.bus.on('pipeline.step.chunk', (event) => chunks.push(event.text));
    const { result } = await ws.run(
      step('prompt: "x [then:answer]"\nstream: true').replace(FAKE_CLAUDE, SCRIPTED_CLAUDE),
    );

    expect(result.outputs.answer).toBe('Done.');
    // Printed one after another (`run --stream`): "Working on it.Done." without a separator.
    expect(chunks.join('')).toBe('Working on it.\n\nDone.');
  });

  it('passes cwd, allowed tools, max turns, model, permission mode and system prompt to Claude Code', async () => {
    mkdirSync(join(ws.dir, 'repo', 'app'), { recursive: true });
    await ws.run(
      step(`
prompt: "Review {{ bug }}"
system: "You review code about {{ bug }}."
model: claude-opus-test
cwd: "repo/{{ 'app' }}"
allowed_tools: [Read, Grep, Bash]
max_turns: 7
permission_mode: acceptEdits`),
    );

    const log = ws.fakeLog();
    const start = log.find((e) => e.event === 'start');
    expect(start?.cwd).toBe(join(ws.dir, 'repo', 'app'));
    expect(start?.argv).toEqual(
      expect.arrayContaining([
        '--model=claude-opus-test',
        '--max-turns=7',
        '--allowedTools=Read,Grep,Bash',
        '--permission-mode=acceptEdits',
        // No settings files (user, project, local) unless the step asks: see setting-sources.test.ts.
        '--setting-sources=',
      ]),
    );
    const stdin = log.filter((e) => e.event === 'stdin').map((e) => e.message);
    const init = stdin.find((m) => m?.type === 'control_request');
    expect(init?.request).toMatchObject({
      subtype: 'initialize',
      systemPrompt: ['You review code about the off-by-one.'],
    });
    const user = stdin.find((m) => m?.type === 'user');
    expect(JSON.stringify(user?.message?.content)).toContain('Review the off-by-one');
  });

  it('loads the settings files the step names in setting_sources', async () => {
    await ws.run(step('prompt: "hello"\nsetting_sources: [user, project]'));

    expect(ws.fakeLog().find((e) => e.event === 'start')?.argv).toContain('--setting-sources=user,project');
  });

  it('works in the pipeline directory when cwd is not given, and finds a relative executable from there', async () => {
    const yaml = step('prompt: "hello"').replace(FAKE_CLAUDE, relative(ws.dir, FAKE_CLAUDE));
    const { result } = await ws.run(yaml);

    expect(result.status).toBe('succeeded');
    expect(ws.fakeLog().find((e) => e.event === 'start')?.cwd).toBe(ws.dir);
  });

  it('uses CLAUDE_CODE_EXECUTABLE when the step names no executable', async () => {
    vi.stubEnv('CLAUDE_CODE_EXECUTABLE', FAKE_CLAUDE);
    const yaml = step('prompt: "hello"').replace(`    executable: ${FAKE_CLAUDE}\n`, '');
    const { result } = await ws.run(yaml);

    expect(result.status).toBe('succeeded');
    expect(ws.fakeLog().some((e) => e.event === 'start')).toBe(true);
  });

  it('routes a session that runs out of max_turns to the fallback', async () => {
    const { result, steps } = await ws.run(
      step(`
prompt: "Refactor everything [turns:5]"
max_turns: 2
fallback: { type: mock, response: "plan B: {{ bug }}" }`),
    );

    // The fake logs its result after sending it, and the step ends at the result: read when written.
    const logged = await waitFor(() => ws.fakeLog().find((e) => e.event === 'result'));
    expect(logged.subtype).toBe('error_max_turns');
    expect(result.status).toBe('succeeded');
    expect(result.outputs.answer).toBe('plan B: the off-by-one');
    expect(steps[0]?.details).toMatchObject({ fallback: 0 });
  });

  it('fails with a clear max_turns error when there is no fallback', async () => {
    const { result } = await ws.run(step('prompt: "Refactor everything [turns:5]"\nmax_turns: 2'));

    expect(result.status).toBe('failed');
    expect(result.error).toContain('stopped at max_turns (2)');
  });

  it('reports an error result of the session as the step failure, without a stack trace', async () => {
    const { result } = await ws.run(step('prompt: "break [scenario:error]"'));

    expect(result.status).toBe('failed');
    expect(result.error).toContain('error_during_execution');
    expect(result.error).toContain('simulated API failure');
    expect(result.error).not.toMatch(/\n\s+at /);
  });

  it('reports a crash of the executable with its stderr', async () => {
    const { result } = await ws.run(step('prompt: "x [scenario:crash]"'));

    expect(result.status).toBe('failed');
    expect(result.error).toContain('simulated crash');
  });

  it('redacts secrets of the environment the session inherits from what its crash printed', async () => {
    vi.stubEnv('ANTHROPIC_BASE_URL', 'https://team:hunter2pass@proxy.internal');
    vi.stubEnv('ANTHROPIC_AUTH_TOKEN', 'gw_live_0123456789abcdef');
    const { result, steps } = await ws.run(step('prompt: "x [then:crash]"').replace(FAKE_CLAUDE, SCRIPTED_CLAUDE));

    expect(result.status).toBe('failed');
    expect(result.error).toContain('crashed after a call to https://team:***@proxy.internal');
    for (const text of [result.error, steps[0]?.error]) {
      expect(text).not.toContain('hunter2pass');
      expect(text).not.toContain('gw_live_0123456789abcdef');
    }
  });

  it('kills the Claude Code process when the run is stopped', async () => {
    const handle = await ws.start(step('prompt: "work forever [scenario:hang]"'));
    // The session is under way once the fake has answered the prompt with its init message.
    const pid = await waitFor(() => {
      const log = ws.fakeLog();
      return log.some((e) => e.event === 'stdin' && e.message?.type === 'user')
        ? log.find((e) => e.event === 'start')?.pid
        : undefined;
    });
    handle.stop('cancelled');
    const result = await handle.result;

    expect(result.status).toBe('cancelled');
    await waitFor(() => (isAlive(pid) ? undefined : true));
    expect(ws.fakeLog().some((e) => e.event === 'signal' && e.pid === pid)).toBe(true);
  });

  it('kills the Claude Code process when the step times out', async () => {
    const { result } = await ws.run(step('prompt: "work forever [scenario:hang]"\ntimeout: 1500ms'));

    expect(result.status).toBe('failed');
    expect(result.error).toContain('timed out');
    const pid = ws.fakeLog().find((e) => e.event === 'start')?.pid as number;
    await waitFor(() => (isAlive(pid) ? undefined : true));
  });

  it('hands Claude Code what is left of the run budget', async () => {
    const yaml = step('prompt: "hello"').replace('steps:', 'budget: { max_cost_usd: 0.5 }\nsteps:');
    await ws.run(yaml);

    expect(ws.fakeLog().find((e) => e.event === 'start')?.argv).toContain('--max-budget-usd=0.5');
  });

  it('with --mock starts nothing and answers deterministically', async () => {
    const yaml = step('prompt: "Fix {{ bug }} [turns:2]"');
    const first = await ws.run(yaml, { mock: true });
    const second = await ws.run(yaml, { mock: true });

    expect(first.result.status).toBe('succeeded');
    expect(ws.fakeLog()).toEqual([]);
    expect(first.result.outputs.answer).toMatch(/^\[mock claude-code #[0-9a-f]{8}\] Fix the off-by-one/);
    expect(second.result.outputs.answer).toBe(first.result.outputs.answer);
  });

  it('with --replay starts no session (a replayed run is offline) and says why', async () => {
    const cassette = join(ws.dir, 'empty.cassette.jsonl');
    writeFileSync(cassette, '');
    const { result } = await ws.run(step('prompt: "hello"'), { replay: new CassettePlayer(cassette) });

    expect(ws.fakeLog()).toEqual([]);
    expect(result.status).toBe('failed');
    expect(result.error).toContain('cannot be answered from the cassette');
  });

  it('with --mock needs no executable at all', async () => {
    const yaml = step('prompt: "hello"').replace(FAKE_CLAUDE, '/nowhere/claude');
    const { result } = await ws.run(yaml, { mock: true });

    expect(result.status).toBe('succeeded');
  });

  it('confined to a root (`serve --root`): an executable outside is refused at load, a cwd outside fails the step unstarted', async () => {
    const file = join(ws.dir, 'pipeline.yaml');
    // The fake itself lies outside the workspace: naming it is leaving the root.
    writeFileSync(file, step('prompt: "hello"'));
    await expect(loadPipeline(file, { root: ws.dir })).rejects.toThrow(
      /steps\[0\]\.executable|is outside the pipelines directory/,
    );

    const inside = join(ws.dir, 'claude');
    copyFileSync(FAKE_CLAUDE, inside);
    const elsewhere = tempDir('elexirion-elsewhere-');
    writeFileSync(file, step(`prompt: "hello"\ncwd: ${JSON.stringify(elsewhere)}`).replace(FAKE_CLAUDE, './claude'));
    const handle = await ws.engine.start(await loadPipeline(file, { root: ws.dir }));
    const result = await handle.result;
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/cwd .* is outside the pipelines directory/);
    expect(ws.fakeLog()).toEqual([]); // no session was started

    writeFileSync(file, step('prompt: "hello"\ncwd: .').replace(FAKE_CLAUDE, './claude'));
    const ok = await (await ws.engine.start(await loadPipeline(file, { root: ws.dir }))).result;
    expect(ok.status, ok.error).toBe('succeeded'); // the root itself is a fine place to work
  });
});
