// A Claude Code session that ends without a result is priced call by call from what it streamed
// (SessionMeter). One call on a model the price table lacks — a subagent's, say — used to make the
// whole session's cost unknown: the calls of the main model, paid at a known price, were forgotten
// by the step, the run's totals and the budget. The known part is kept; the unpriced calls are counted.
import type { SDKAssistantMessage } from '@anthropic-ai/claude-agent-sdk';
import { describe, expect, it } from 'vitest';
import { SessionMeter } from '../../src/providers/claude-code/meter.js';
import { FAKE_CLAUDE, PASS_FAKE_ENV, SCRIPTED_CLAUDE } from './harness.js';
import { useWorkspace } from './per-test.js';

const call = (id: string, model: string, output: number) =>
  ({
    type: 'assistant',
    message: { id, model, content: [], usage: { input_tokens: 10, output_tokens: output } },
    parent_tool_use_id: null,
    session_id: 's1',
  }) as unknown as SDKAssistantMessage;

describe('SessionMeter', () => {
  const price = (model: string) => (model === 'known' ? 0.01 : null);

  it('keeps the cost of the priced calls and counts the unpriced ones', () => {
    const meter = new SessionMeter(price);
    meter.add(call('m1', 'known', 5));
    meter.add(call('m2', 'unlisted', 5));
    meter.add(call('m3', 'known', 5));
    expect(meter.spent()).toMatchObject({ costUsd: 0.02, unpricedCalls: 1, numTurns: 3 });
  });

  it('says unknown (null), never $0, when no call was priced; counts nothing apart when all were', () => {
    const unknown = new SessionMeter(price);
    unknown.add(call('m1', 'unlisted', 5));
    unknown.add(call('m2', 'unlisted', 5));
    expect(unknown.spent()).toMatchObject({ costUsd: null, unpricedCalls: 2 });
    const known = new SessionMeter(price);
    known.add(call('m1', 'known', 5));
    expect(known.spent()?.costUsd).toBe(0.01);
    expect(known.spent()).not.toHaveProperty('unpricedCalls');
  });
});

// The scripted claude's main call on claude-sonnet-4-5: 1,000 input tokens at $3 per million and
// 200 output at $15 per million. Its subagent's call is on a model no price table knows.
const MAIN_CALL_USD = 0.006;

describe('a claude_code step whose session ended without a result, a call of it unpriced', () => {
  const { ws } = useWorkspace();

  /** The --max-budget-usd each session was started with, in order. */
  const capsGiven = () =>
    ws
      .fakeLog()
      .filter((e) => e.event === 'start')
      .map((e) => Number(e.argv?.find((a) => a.startsWith('--max-budget-usd='))?.split('=')[1]));

  const pipeline = (then: string, fields = '') => `name: subagent
budget: { max_cost_usd: 0.5 }
steps:
  - name: fix
    type: claude_code
    executable: ${SCRIPTED_CLAUDE}
    ${PASS_FAKE_ENV}
    model: claude-sonnet-4-5
    prompt: "fix it [subagent:claude-unlisted-9] [then:${then}]"
    on_error: continue${fields}
  - name: again
    type: claude_code
    executable: ${FAKE_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "fix it again"
`;

  // The crash's error carries the meter's bill; the timeout's is the step's own (exec.bill).
  it.each([
    ['crashed', 'crash', ''],
    ['was stopped by its timeout', 'hang', '\n    timeout: 5s'],
  ])('keeps the known cost of a session that %s and counts its unpriced call', async (_how, then, fields) => {
    const { result, steps } = await ws.run(pipeline(then, fields));
    expect(result.status, result.error).toBe('succeeded');
    const fix = steps.find((s) => s.name === 'fix');
    expect(fix?.status).toBe('failed');
    expect(fix?.usage).toEqual({ inputTokens: 1500, outputTokens: 250 });
    expect(fix?.costUsd).toBeCloseTo(MAIN_CALL_USD, 10);
    expect(fix?.details).toMatchObject({ calls: 1, unpriced_calls: 1 });
    expect(result.totals).toMatchObject({ unpriced_calls: 1 });
    expect(result.totals.cost_usd).toBeGreaterThan(MAIN_CALL_USD); // and the next session's
    // The budget was told what is known: the next session was given what was left after it.
    expect(capsGiven()[1]).toBeCloseTo(0.5 - MAIN_CALL_USD, 10);
  });
});
