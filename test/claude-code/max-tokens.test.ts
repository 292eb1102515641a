// A claude_code step's `max_tokens`: Elexirion meters the output tokens of the session's model
// calls as its messages arrive and stops the session (its AbortController, which ends the process)
// once they go past the limit. The step fails, not retried, and what the session used is its bill.
import { describe, expect, it, vi } from 'vitest';
import { ClaudeCodeTokenLimitError } from '../../src/providers/claude-code/errors.js';
import type { ClaudeAgentSdk } from '../../src/providers/claude-code/load-sdk.js';
import { SessionMeter } from '../../src/providers/claude-code/meter.js';
import { runClaudeCodeSession } from '../../src/providers/claude-code/session.js';
import { FAKE_CLAUDE, isAlive, PASS_FAKE_ENV, SCRIPTED_CLAUDE, waitFor } from './harness.js';
import { useWorkspace } from './per-test.js';

const { ws } = useWorkspace();

// The fake's turns each report 100 input and 20 output tokens; as claude-sonnet-4-5 ($3 / $15 per
// million) one turn costs 100 × 3e-6 + 20 × 15e-6 = $0.0006.
const TURN_USD = 0.0006;

describe('max_tokens on a claude_code step', () => {
  it('stops the session part-way once its output tokens pass the limit, fails the step and keeps the bill', async () => {
    const events: { error?: string; usage: unknown }[] = [];
    ws.engine.bus.on('pipeline.provider.response', (e) => events.push(e));
    // A long task, one turn every 300 ms: without the limit it would take 15 s and succeed.
    const { result, steps } = await ws.run(`name: capped
budget: { max_cost_usd: 0.5 }
steps:
  - name: fix
    type: claude_code
    executable: ${FAKE_CLAUDE}
    ${PASS_FAKE_ENV}
    model: claude-sonnet-4-5
    prompt: "refactor everything [turns:50] [pace:300]"
    max_tokens: 50
    timeout: 60s
    on_error: continue
  - name: again
    type: claude_code
    executable: ${FAKE_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "then this"
`);

    expect(result.status, result.error).toBe('succeeded');
    const fix = steps.find((s) => s.name === 'fix');
    expect(fix?.status).toBe('failed');
    // 20 + 20 = 40 is within 50; the third turn's 60 is past it.
    expect(fix?.error).toBe(
      'max_tokens: the Claude Code session of step "fix" was stopped after 60 output tokens, past its max_tokens of 50',
    );
    // The bill: the three model calls seen, priced by the table (Claude Code never reported one).
    expect(fix?.usage).toEqual({ inputTokens: 300, outputTokens: 60 });
    expect(fix?.costUsd).toBeCloseTo(3 * TURN_USD, 10);
    expect(events[0]).toMatchObject({ usage: { inputTokens: 300, outputTokens: 60 } });
    expect(events[0]?.error).toContain('max_tokens');
    // The run's budget was told too: the next session was given what was left after it.
    const caps = ws
      .fakeLog()
      .filter((e) => e.event === 'start')
      .map((e) => Number(e.argv?.find((a) => a.startsWith('--max-budget-usd='))?.split('=')[1]));
    expect(caps).toHaveLength(2); // one session for `fix` (not retried), one for `again`
    expect(caps[1]).toBeCloseTo(0.5 - 3 * TURN_USD, 10);

    // The session's process was ended part-way: it never finished its task.
    const first = ws.fakeLog().find((e) => e.event === 'start')?.pid as number;
    await waitFor(() => (isAlive(first) ? undefined : true));
    const own = ws.fakeLog().filter((e) => e.pid === first);
    expect(own.some((e) => e.event === 'result')).toBe(false);
    expect(own.filter((e) => e.event === 'turn').length).toBeLessThan(49);
  });

  it('counts a model call streamed as several messages once, at its largest output count', async () => {
    // The scripted claude's first call comes as two messages with one id: 1, then 200 output
    // tokens; its second call adds 20 (220 in all).
    const yaml = (maxTokens: number) => `name: streamed
steps:
  - name: fix
    type: claude_code
    executable: ${SCRIPTED_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "fix it [then:answer]"
    max_tokens: ${maxTokens}
`;
    const stopped = await ws.run(yaml(150));
    expect(stopped.result.status).toBe('failed');
    expect(stopped.result.error).toContain('stopped after 200 output tokens, past its max_tokens of 150');
    expect(stopped.steps[0]?.usage).toEqual({ inputTokens: 1000, outputTokens: 200 });

    // At the limit is not past it: the session finishes.
    const finished = await ws.run(yaml(220));
    expect(finished.result.status, finished.result.error).toBe('succeeded');
    expect(finished.steps[0]?.output).toBe('Done.');
  });

  it('is not retried, and goes to the fallback like any failure of the step', async () => {
    const { result, steps } = await ws.run(`name: with-fallback
steps:
  - name: fix
    type: claude_code
    executable: ${FAKE_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "refactor everything [turns:5]"
    max_tokens: 30
    fallback: { type: mock, response: "plan B" }
`);

    expect(result.status, result.error).toBe('succeeded');
    expect(steps[0]?.output).toBe('plan B');
    expect(steps[0]?.details).toMatchObject({ fallback: 0 });
    // The stopped session's 2 calls (40 output tokens) stay on the step's bill.
    expect(steps[0]?.usage.outputTokens).toBeGreaterThanOrEqual(40);
    expect(ws.fakeLog().filter((e) => e.event === 'start')).toHaveLength(1);
  });
});

describe('runClaudeCodeSession with maxOutputTokens', () => {
  type Message = Record<string, unknown>;
  const call = (id: string, output: number, parent: string | null = null): Message => ({
    type: 'assistant',
    message: { id, model: 'claude-sonnet-4-5', content: [], usage: { input_tokens: 10, output_tokens: output } },
    parent_tool_use_id: parent,
    session_id: 's1',
  });

  /** An SDK stand-in that plays `messages` and records how far it was read and its abort. */
  function standIn(messages: Message[]) {
    const seen = { read: 0, closed: false, abort: undefined as AbortController | undefined };
    const sdk = {
      query: ({ options }: { options: { abortController?: AbortController } }) => {
        seen.abort = options.abortController;
        async function* play() {
          for (const message of messages) {
            seen.read++;
            yield message;
          }
        }
        return Object.assign(play(), {
          close: () => {
            seen.closed = true;
          },
        });
      },
    } as unknown as ClaudeAgentSdk;
    return { sdk, seen };
  }

  it("counts subagents' calls, aborts the session at once and reads no further", async () => {
    const { sdk, seen } = standIn([
      call('m1', 30),
      call('m2', 30, 'toolu_task'), // a subagent's call: paid for, so counted
      call('m3', 30),
      { type: 'result', subtype: 'success', is_error: false, result: 'never read' },
    ]);
    const meter = new SessionMeter(() => 0.01);
    const error = await runClaudeCodeSession({ prompt: 'p', cwd: '/' }, new AbortController().signal, {
      sdk,
      meter,
      maxOutputTokens: 50,
      step: 'fix',
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ClaudeCodeTokenLimitError);
    const limit = error as ClaudeCodeTokenLimitError;
    expect(limit.retryable).toBe(false);
    expect(limit.message).toContain('step "fix" was stopped after 60 output tokens, past its max_tokens of 50');
    expect(limit.spent).toMatchObject({ usage: { inputTokens: 20, outputTokens: 60 }, costUsd: 0.02 });
    expect(seen.abort?.signal.aborted).toBe(true);
    expect(seen.abort?.signal.reason).toBe(error);
    expect(seen.closed).toBe(true);
    expect(seen.read).toBe(2);
  });

  it('gives the SDK a minimal environment when the request names none', async () => {
    vi.stubEnv('OPENAI_API_KEY', 'sk-openai-test-0123456789');
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-test-0123456789');
    let env: Record<string, string | undefined> | undefined;
    const sdk = {
      query: ({ options }: { options: { env?: Record<string, string | undefined> } }) => {
        env = options.env;
        return Object.assign((async function* () {})(), { close: () => {} });
      },
    } as unknown as ClaudeAgentSdk;
    await runClaudeCodeSession({ prompt: 'p', cwd: '/' }, new AbortController().signal, { sdk }).catch(() => {});

    expect(env?.ANTHROPIC_API_KEY).toBe('sk-ant-test-0123456789');
    expect(env?.PATH).toBe(process.env.PATH);
    expect(env).not.toHaveProperty('OPENAI_API_KEY');
  });
});
