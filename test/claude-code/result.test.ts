// Reading a session's result message: usage accounting and the error each subtype stands for.
import type { SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import { describe, expect, it } from 'vitest';
import { BudgetExceededError } from '../../src/budget/budget-guard.js';
import { MaxTurnsExceededError } from '../../src/llm/errors.js';
import { ClaudeCodeCostLimitError, ClaudeCodeError } from '../../src/providers/claude-code/errors.js';
import { interpretResult, usageOf } from '../../src/providers/claude-code/result.js';
import { sanitizeMessage } from '../../src/providers/claude-code/sanitize.js';

const usage = { input_tokens: 10, output_tokens: 4, cache_read_input_tokens: 6, cache_creation_input_tokens: 2 };

function result(fields: Record<string, unknown>): SDKResultMessage {
  return {
    type: 'result',
    subtype: 'success',
    is_error: false,
    result: 'done',
    duration_ms: 1,
    duration_api_ms: 1,
    num_turns: 3,
    stop_reason: 'end_turn',
    total_cost_usd: 0.5,
    usage,
    modelUsage: {},
    permission_denials: [],
    uuid: '00000000-0000-4000-8000-000000000000',
    session_id: 's1',
    ...fields,
  } as unknown as SDKResultMessage;
}

describe('usageOf', () => {
  it('counts cache reads and writes inside the input tokens, from `usage` when there is no modelUsage', () => {
    expect(usageOf(result({}))).toEqual({ inputTokens: 18, outputTokens: 4, cacheReadTokens: 6, cacheWriteTokens: 2 });
  });

  it('sums modelUsage over every model when Claude Code reports it', () => {
    const modelUsage = {
      a: { inputTokens: 1, outputTokens: 2, cacheReadInputTokens: 3, cacheCreationInputTokens: 0 },
      b: { inputTokens: 10, outputTokens: 20, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
    };
    expect(usageOf(result({ modelUsage }))).toEqual({ inputTokens: 14, outputTokens: 22, cacheReadTokens: 3 });
  });

  it('keeps which cache writes were 1-hour ones, as a killed session meter does (they cost more)', () => {
    const split = { ...usage, cache_creation_input_tokens: 5, cache_creation: { ephemeral_1h_input_tokens: 3 } };
    expect(usageOf(result({ usage: split }))).toEqual({
      inputTokens: 21,
      outputTokens: 4,
      cacheReadTokens: 6,
      cacheWriteTokens: 5,
      cacheWrite1hTokens: 3,
    });
  });
});

describe('interpretResult', () => {
  it('returns the text, cost and turns of a success', () => {
    const r = interpretResult(result({}), { model: 'm' });
    expect(r).toMatchObject({ text: 'done', costUsd: 0.5, numTurns: 3, sessionId: 's1', model: 'm' });
  });

  it('turns error_max_turns into a MaxTurnsExceededError that keeps what was spent', () => {
    const error = (() => {
      try {
        return interpretResult(result({ subtype: 'error_max_turns', is_error: true, errors: [] }), { maxTurns: 3 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MaxTurnsExceededError);
    expect((error as { spent: { costUsd: number } }).spent.costUsd).toBe(0.5);
  });

  it('turns error_max_budget_usd into a budget stop that keeps what was spent', () => {
    const stop = result({ subtype: 'error_max_budget_usd', is_error: true, errors: [] });
    expect(() => interpretResult(stop, {})).toThrow(BudgetExceededError);
    // Claude Code stops only after the call that reached its cap: that session was paid for.
    expect(() => interpretResult(stop, {})).toThrow(
      expect.objectContaining({ spent: expect.objectContaining({ costUsd: 0.5, numTurns: 3 }) }),
    );
  });

  it("turns error_max_budget_usd at the step's own max_cost_usd into the step's failure, not a budget stop", () => {
    const stop = result({ subtype: 'error_max_budget_usd', is_error: true, errors: [] });
    const error = (() => {
      try {
        return interpretResult(stop, { budgetCap: { of: 'step', maxCostUsd: 0.25, step: 'fix' } });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ClaudeCodeCostLimitError);
    expect(error).toBeInstanceOf(ClaudeCodeError);
    expect(error).not.toBeInstanceOf(BudgetExceededError);
    expect((error as Error).message).toBe(
      `max_cost_usd: the Claude Code session of step "fix" stopped at the step's max_cost_usd of $0.25 after spending $0.5000`,
    );
    expect((error as ClaudeCodeCostLimitError).spent).toMatchObject({ costUsd: 0.5, numTurns: 3 });
    expect(() => interpretResult(stop, { budgetCap: { of: 'run' } })).toThrow(BudgetExceededError);
  });

  it('reports an API error ending a "success" turn, without leaking a key from its text', () => {
    const r = result({ is_error: true, result: 'invalid x-api-key: sk-ant-api03-abcdefghijklmnop' });
    expect(() => interpretResult(r, {})).toThrow(ClaudeCodeError);
    expect(() => interpretResult(r, {})).toThrow(/^(?!.*sk-ant-api03).*\[redacted\]/i);
  });
});

describe('sanitizeMessage', () => {
  it('shortens long text', () => {
    expect(sanitizeMessage('x'.repeat(2000))).toHaveLength(500);
  });

  it('redacts secret environment values, URL passwords and Google keys, not only sk- keys', () => {
    const env = { ANTHROPIC_AUTH_TOKEN: 'gw_live_0123456789abcdef' };
    const text = sanitizeMessage(
      'API Error: 401 from https://team:hunter2pass@proxy.internal/v1 (token gw_live_0123456789abcdef, ' +
        'fallback key AIzaSyA0123456789abcdefghijklmnop)',
      env,
    );

    expect(text).not.toContain('gw_live_0123456789abcdef');
    expect(text).not.toContain('hunter2pass');
    expect(text).not.toContain('AIzaSyA0123456789abcdefghijklmnop');
    expect(text).toContain('API Error: 401 from https://team:***@proxy.internal/v1');
  });
});
