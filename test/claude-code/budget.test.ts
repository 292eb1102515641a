// A claude_code session and the run's budget. A session's spend is bounded only by the cap Claude
// Code is given, so the session reserves that cap: two sessions in a parallel group (or a session
// beside calls of another worker) can no longer each be handed the whole remaining budget.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { BudgetReservation } from '../../src/budget/budget-guard.js';
import type { RunBudget } from '../../src/budget/run-budget.js';
import { SharedBudgets } from '../../src/cluster/shared-budgets.js';
import type { ModelRequest } from '../../src/providers/provider.js';
import { REDIS_URL } from '../cluster/harness.js';
import { FAKE_CLAUDE, isAlive, PASS_FAKE_ENV, SCRIPTED_CLAUDE, type Workspace, waitFor } from './harness.js';
import { perTest } from './per-test.js';

// Each test makes its workspace with the engine options it needs.
const { workspace, defer } = perTest();

/** The --max-budget-usd each session was started with, in the order they started. */
function capsGiven(w: Workspace): number[] {
  return w
    .fakeLog()
    .filter((e) => e.event === 'start')
    .map((e) => {
      const arg = e.argv?.find((a) => a.startsWith('--max-budget-usd='));
      return arg === undefined ? Number.NaN : Number(arg.slice('--max-budget-usd='.length));
    });
}

const session = (name: string, fields = '') => `      - name: ${name}
        type: claude_code
        executable: ${FAKE_CLAUDE}
        ${PASS_FAKE_ENV}
        prompt: "work on ${name} [scenario:hang]"
        timeout: 20s${fields}`;

describe('claude_code sessions and max_cost_usd', () => {
  it('two sessions in a parallel group do not each get the whole remaining budget', async () => {
    const w = workspace();
    const started: string[] = [];
    w.engine.bus.on('pipeline.provider.request', (e) => started.push(e.step));
    // Each session hangs until it is stopped: the first holds its cap for as long as the other
    // tries to start. (The timeout only ends the run if both were started, as they used to be.)
    const { result } = await w.run(`name: two-sessions
budget: { max_cost_usd: 0.5 }
steps:
  - name: both
    type: parallel
    steps:
${session('a')}
${session('b')}
`);

    // One session was started (given all that was left); the other was refused before starting.
    expect(started).toHaveLength(1);
    expect(capsGiven(w).every((cap) => cap === 0.5)).toBe(true);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/budget: step "(a|b)" stopped before calling/);
    expect(result.error).toContain('holds all that is left of the budget');
  });

  it('sessions with their own max_cost_usd share the run budget: each holds its cap, both start', async () => {
    const w = workspace();
    const started: string[] = [];
    w.engine.bus.on('pipeline.provider.request', (e) => started.push(e.step));
    const capped = (name: string) => session(name, '\n        max_cost_usd: 0.2').replace('[scenario:hang]', '');
    const { result } = await w.run(`name: two-capped
budget: { max_cost_usd: 0.5 }
steps:
  - name: both
    type: parallel
    steps:
${capped('a')}
${capped('b')}
`);
    expect(result.status, result.error).toBe('succeeded');
    expect(started.sort()).toEqual(['a', 'b']);
    expect(capsGiven(w)).toEqual([0.2, 0.2]);
  });

  it('a step max_cost_usd is Claude Code’s cap without any run budget', async () => {
    const w = workspace();
    const { result } = await w.run(`name: one-capped
steps:
${session('a', '\n        max_cost_usd: 0.3').replace('[scenario:hang]', '').replace(/^ {4}/gm, '')}
`);
    expect(result.status, result.error).toBe('succeeded');
    expect(capsGiven(w)).toEqual([0.3]);
  });

  it('a session is given only what calls of other workers in flight leave (the shared ledger in Redis)', async () => {
    const prefix = `elxtest-cc-budget-${randomUUID()}`;
    const redis = new Redis(REDIS_URL);
    const shared = new SharedBudgets(redis, prefix);
    const chunkRedis = new Redis(REDIS_URL);
    const chunkWorker = new SharedBudgets(chunkRedis, prefix);
    defer(async () => {
      shared.close();
      chunkWorker.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      chunkRedis.disconnect();
    });
    // $0.20 of the run's budget is held, unsettled, by a call on another worker when the session
    // asks for its cap; this process has not seen that reservation.
    const heldElsewhere: ModelRequest = { provider: 'x', model: 'y', messages: [{ role: 'user', content: 'z' }] };
    const w = workspace({
      budgets: (opening) => {
        const budget = shared.factory(opening);
        const other = chunkWorker.factory({ ...opening, journaled: { costUsd: 0, tokens: 0 } });
        let held: Promise<BudgetReservation> | undefined;
        return {
          limits: budget.limits,
          get spent() {
            return budget.spent;
          },
          reserve: async (request, step, price) => {
            held ??= Promise.resolve(other.reserve(heldElsewhere, 'elsewhere', () => 0.2));
            await held;
            return budget.reserve(request, step, price);
          },
          commit: (reservation, usage, cost) => budget.commit(reservation, usage, cost),
          release: (reservation) => budget.release(reservation),
        } satisfies RunBudget;
      },
    });

    const { result } = await w.run(`name: beside-a-chunk
budget: { max_cost_usd: 0.5 }
steps:
  - name: fix
    type: claude_code
    executable: ${FAKE_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "fix it"
`);

    expect(result.status, result.error).toBe('succeeded');
    const [cap] = capsGiven(w);
    expect(cap).toBeLessThanOrEqual(0.3);
    expect(cap).toBeCloseTo(0.3, 5);
  });

  it('a session Claude Code stopped at its budget is counted at what it spent', async () => {
    const w = workspace();
    const { result, steps } = await w.run(`name: over-budget
budget: { max_cost_usd: 0.5 }
steps:
  - name: fix
    type: claude_code
    executable: ${SCRIPTED_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "fix it [then:budget]"
`);

    expect(result.status).toBe('failed');
    expect(result.error).toContain('stopped at the run');
    // It was given $0.50 and, checking after each call, spent $0.51: paid for, so counted.
    expect(steps[0]?.costUsd).toBeCloseTo(0.51, 10);
    expect(steps[0]?.usage).toEqual({ inputTokens: 1000, outputTokens: 200 });
    expect(result.totals.cost_usd).toBeCloseTo(0.51, 10);
  });

  // A stop at the step's own max_cost_usd is that step's failure, not the run's budget: on_error
  // and fallback apply, and what it spent is kept.
  const stepCapped = (budget: string, stepCap: number) => `name: step-capped
${budget}
steps:
  - name: explore
    type: claude_code
    executable: ${SCRIPTED_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "try an idea [then:budget]"
    max_cost_usd: ${stepCap}
    on_error: continue
  - name: summary
    type: mock
    prompt: "summarize"
    response: "summary written"
outputs:
  summary: "{{ steps.summary.output }}"
`;

  it('a session stopped at its step max_cost_usd fails the step, which on_error: continue absorbs (no run budget)', async () => {
    const w = workspace();
    const { result, steps } = await w.run(stepCapped('', 0.001));

    expect(result.status, result.error).toBe('succeeded');
    expect(result.outputs).toEqual({ summary: 'summary written' });
    const explore = steps.find((s) => s.name === 'explore');
    expect(explore?.status).toBe('failed');
    expect(explore?.details).toMatchObject({ continued: true });
    expect(explore?.error).toContain(`stopped at the step's max_cost_usd of $0.001`);
    expect(explore?.error).not.toContain('budget');
    // Given $0.001, it spent $0.011 (Claude Code checks after each call): kept on the step's record.
    expect(explore?.costUsd).toBeCloseTo(0.011, 10);
    expect(result.totals.cost_usd).toBeCloseTo(0.011, 10);
  });

  it('under a run budget that has more left, a stop at the step max_cost_usd is still the step’s', async () => {
    const w = workspace();
    const { result, steps } = await w.run(stepCapped('budget: { max_cost_usd: 0.5 }', 0.1));

    expect(result.status, result.error).toBe('succeeded');
    expect(capsGiven(w)).toEqual([0.1]);
    const explore = steps.find((s) => s.name === 'explore');
    expect(explore?.status).toBe('failed');
    expect(explore?.details).toMatchObject({ continued: true });
    expect(explore?.error).toContain(`stopped at the step's max_cost_usd of $0.1`);
    expect(result.totals.cost_usd).toBeCloseTo(0.11, 10);
  });

  it('when what is left of the run budget is below the step max_cost_usd, the stop is the run’s: no on_error absorbs it', async () => {
    const w = workspace();
    const { result, steps } = await w.run(stepCapped('budget: { max_cost_usd: 0.1 }', 0.2));

    expect(capsGiven(w)).toEqual([0.1]);
    expect(result.status).toBe('failed');
    expect(result.error).toContain("stopped at the run's remaining budget");
    expect(steps.find((s) => s.name === 'summary')).toBeUndefined();
  });

  // One model call of claude-sonnet-4-5 seen before the session ended without a result: 1,000
  // input tokens at $3 per million and 200 output at $15 per million.
  const ONE_CALL_USD = 0.006;

  it('a session whose executable crashed after a model call is counted at what that call cost', async () => {
    const w = workspace();
    const { result, steps } = await w.run(`name: crashed
budget: { max_cost_usd: 0.5 }
steps:
  - name: fix
    type: claude_code
    executable: ${SCRIPTED_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "fix it [then:crash]"
    on_error: continue
  - name: again
    type: claude_code
    executable: ${FAKE_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "fix it again"
`);

    expect(result.status, result.error).toBe('succeeded');
    const fix = steps.find((s) => s.name === 'fix');
    expect(fix?.error).toContain('crashed after a call');
    expect(fix?.costUsd).toBeCloseTo(ONE_CALL_USD, 10);
    expect(fix?.usage).toEqual({ inputTokens: 1000, outputTokens: 200 });
    // The budget knew it too: the next session was given what was left after it.
    expect(capsGiven(w)).toEqual([0.5, 0.5 - ONE_CALL_USD]);
  });

  it('a session stopped by its timeout is counted at what its model calls cost, and its process ends', async () => {
    const w = workspace();
    const { result, steps } = await w.run(`name: timed-out
budget: { max_cost_usd: 0.5 }
steps:
  - name: fix
    type: claude_code
    executable: ${SCRIPTED_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "fix it [then:hang]"
    timeout: 6s
`);

    expect(result.status).toBe('failed');
    expect(result.error).toContain('timed out');
    expect(steps[0]?.costUsd).toBeCloseTo(ONE_CALL_USD, 10);
    expect(result.totals.cost_usd).toBeCloseTo(ONE_CALL_USD, 10);
    const pid = w.fakeLog().find((e) => e.event === 'start')?.pid as number;
    await waitFor(() => (isAlive(pid) ? undefined : true));
  });
});
