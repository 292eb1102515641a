// How a Claude Code session fails, typed so that the step runner and the report can tell the cases
// apart: running out of turns is routed to `fallback` like the LLM loop's own max_turns.
import { BudgetExceededError } from '../../budget/budget-guard.js';
import { ElexirionError, type ExitCode } from '../../errors.js';
import { MaxTurnsExceededError } from '../../llm/errors.js';
import type { Usage } from '../provider.js';

/** What a session that ended early had already spent (it is paid for even though it failed). */
export interface SpentSoFar {
  usage: Usage;
  /**
   * What its priced model calls cost (a session that ended without a result is priced call by call
   * by our price table); null when none of them was priced.
   */
  costUsd: number | null;
  /** Its model calls whose price is unknown (a model our price table lacks): not in `costUsd`. */
  unpricedCalls?: number;
  numTurns: number;
  sessionId?: string;
}

/** The session stopped at `max_turns` before the task was done. */
export class ClaudeCodeMaxTurnsError extends MaxTurnsExceededError {
  readonly spent: SpentSoFar;
  constructor(maxTurns: number, spent: SpentSoFar) {
    super(maxTurns);
    this.message = `the Claude Code session stopped at max_turns (${maxTurns}) before finishing`;
    this.spent = spent;
  }
}

/** The session failed: an error result, a crash of the executable, or a failure to start it. */
export class ClaudeCodeError extends ElexirionError {
  readonly spent?: SpentSoFar;
  constructor(message: string, options: { hint?: string; spent?: SpentSoFar; exitCode?: ExitCode } = {}) {
    super(message, {
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      ...(options.exitCode === undefined ? {} : { exitCode: options.exitCode }),
    });
    if (options.spent) this.spent = options.spent;
  }
}

/**
 * Claude Code stopped the session at the budget it was given (`maxBudgetUsd`): a budget stop like
 * any other, except that the session was paid for — up to its cap, and a little past it, as Claude
 * Code checks its spend only after each model call.
 */
export class ClaudeCodeBudgetError extends BudgetExceededError {
  readonly spent: SpentSoFar;
  constructor(message: string, spent: SpentSoFar) {
    super(message);
    this.spent = spent;
  }
}

/**
 * Claude Code stopped the session at the step's own `max_cost_usd` (not at what is left of the run's
 * budget, which is a ClaudeCodeBudgetError): the step failed — `fallback` and `on_error: continue`
 * apply as to any failure — and the run's budget is untouched beyond what the session spent, which
 * the error carries (Claude Code checks after each model call, so a little past the cap). Not retried.
 */
export class ClaudeCodeCostLimitError extends ClaudeCodeError {
  readonly retryable = false;
  readonly maxCostUsd: number;
  declare readonly spent: SpentSoFar;
  constructor(step: string | undefined, maxCostUsd: number, spent: SpentSoFar & { costUsd: number }) {
    const who = step === undefined ? 'the Claude Code session' : `the Claude Code session of step "${step}"`;
    super(
      `max_cost_usd: ${who} stopped at the step's max_cost_usd of $${maxCostUsd} after spending $${spent.costUsd.toFixed(4)}`,
      { hint: 'raise `max_cost_usd:` on the step, or give the session a narrower task', spent },
    );
    this.maxCostUsd = maxCostUsd;
  }
}

/**
 * The session was stopped by Elexirion at the step's `max_tokens`: its model calls' output tokens
 * went past it. Not retried (the same task would use as much again); paid for up to where it was
 * stopped, which the error carries.
 */
export class ClaudeCodeTokenLimitError extends ClaudeCodeError {
  readonly retryable = false;
  readonly maxTokens: number;
  readonly outputTokens: number;
  constructor(step: string | undefined, maxTokens: number, outputTokens: number, spent: SpentSoFar | undefined) {
    const who = step === undefined ? 'the Claude Code session' : `the Claude Code session of step "${step}"`;
    super(`max_tokens: ${who} was stopped after ${outputTokens} output tokens, past its max_tokens of ${maxTokens}`, {
      hint: 'raise `max_tokens:` on the step, or give the session a narrower task (or fewer `max_turns`)',
      ...(spent === undefined ? {} : { spent }),
    });
    this.maxTokens = maxTokens;
    this.outputTokens = outputTokens;
  }
}

/**
 * The API kept refusing the session's credentials (see ./api-retries.ts): Claude Code would have
 * retried for minutes, so Elexirion stopped the session. Not retried: the same credentials would be
 * refused again.
 */
export class ClaudeCodeAuthError extends ClaudeCodeError {
  readonly retryable = false;
  constructor(message: string, spent: SpentSoFar | undefined) {
    super(message, {
      hint: 'check the credentials Claude Code uses: ANTHROPIC_API_KEY (or the variable `providers.anthropic.api_key_env` names), ANTHROPIC_AUTH_TOKEN, or its login (`claude /login`)',
      ...(spent === undefined ? {} : { spent }),
    });
  }
}
