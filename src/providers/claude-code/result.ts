// A session's result message turned into what Elexirion records: the answer text, usage, cost and
// turns — or the typed error its subtype stands for.
import type { ModelUsage, SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import { type CacheCreationUsage, cacheWrite1hOf } from '../anthropic-usage.js';
import type { Usage } from '../provider.js';
import type { BudgetCap } from './budget-cap.js';
import {
  ClaudeCodeBudgetError,
  ClaudeCodeCostLimitError,
  ClaudeCodeError,
  ClaudeCodeMaxTurnsError,
  type SpentSoFar,
} from './errors.js';
import { sanitizeMessage } from './sanitize.js';

export interface ClaudeCodeResult {
  /** The final assistant text of the session. */
  text: string;
  usage: Usage;
  /** Claude Code's own estimate of what the session cost. */
  costUsd: number;
  numTurns: number;
  sessionId: string;
  /** The main model of the session, as Claude Code reports it. */
  model?: string;
  durationApiMs: number;
  /** Tool calls the permission mode refused. */
  permissionDenials: number;
}

/**
 * Tokens of the whole session. `modelUsage` covers every model call (subagents, compaction …),
 * `usage` only the main loop: the former is what was paid for, the latter a fallback for a
 * Claude Code that does not report per-model totals.
 */
export function usageOf(result: Pick<SDKResultMessage, 'usage' | 'modelUsage'>): Usage {
  const perModel = Object.values(result.modelUsage ?? {}) as ModelUsage[];
  let input: number;
  let output: number;
  let cacheRead: number;
  let cacheWrite: number;
  if (perModel.length > 0) {
    input = sum(perModel.map((m) => m.inputTokens));
    output = sum(perModel.map((m) => m.outputTokens));
    cacheRead = sum(perModel.map((m) => m.cacheReadInputTokens));
    cacheWrite = sum(perModel.map((m) => m.cacheCreationInputTokens));
  } else {
    const u = result.usage as unknown as Partial<Record<string, number | null>>;
    input = u.input_tokens ?? 0;
    output = u.output_tokens ?? 0;
    cacheRead = u.cache_read_input_tokens ?? 0;
    cacheWrite = u.cache_creation_input_tokens ?? 0;
  }
  // Our Usage counts cache reads and writes inside the input tokens (the API reports them apart).
  const usage: Usage = { inputTokens: input + cacheRead + cacheWrite, outputTokens: output };
  if (cacheRead > 0) usage.cacheReadTokens = cacheRead;
  if (cacheWrite > 0) usage.cacheWriteTokens = cacheWrite;
  // Of the writes, the 1-hour ones (the session's usage splits them; per-model usage does not): the
  // usage journaled for a finished session says what a killed one's meter says (meter.ts).
  const cacheWrite1h = Math.min(cacheWrite1hOf(result.usage as CacheCreationUsage), cacheWrite);
  if (cacheWrite1h > 0) usage.cacheWrite1hTokens = cacheWrite1h;
  return usage;
}

/** The result of a finished session, or the error its result message reports. */
export function interpretResult(
  result: SDKResultMessage,
  context: {
    model?: string;
    maxTurns?: number;
    /** Whose limit the session's spending cap was (see ./budget-cap.ts); the run's by default. */
    budgetCap?: BudgetCap;
    /** Whose values are redacted from the errors it reports (default: process.env). */
    env?: Readonly<Record<string, string | undefined>>;
  },
): ClaudeCodeResult {
  const spent: SpentSoFar & { costUsd: number } = {
    usage: usageOf(result),
    costUsd: result.total_cost_usd ?? 0,
    numTurns: result.num_turns,
    sessionId: result.session_id,
  };
  if (result.subtype === 'success' && !result.is_error) {
    return {
      text: result.result,
      usage: spent.usage,
      costUsd: spent.costUsd,
      numTurns: result.num_turns,
      sessionId: result.session_id,
      ...(context.model === undefined ? {} : { model: context.model }),
      durationApiMs: result.duration_api_ms,
      permissionDenials: result.permission_denials?.length ?? 0,
    };
  }
  switch (result.subtype) {
    case 'success':
      // is_error with subtype success: the turn ended on an API error, whose text is `result`.
      throw new ClaudeCodeError(
        `the Claude Code session ended on an error: ${sanitizeMessage(result.result, context.env)}`,
        {
          spent,
          hint: 'check the model name and the credentials Claude Code uses (ANTHROPIC_API_KEY or its login)',
        },
      );
    case 'error_max_turns':
      throw new ClaudeCodeMaxTurnsError(context.maxTurns ?? result.num_turns, spent);
    case 'error_max_budget_usd':
      // Paid for: the error carries the bill, for the run's budget and the step's record. At the
      // step's own cap it is the step's failure; at what was left of the run's budget, the run's.
      if (context.budgetCap?.of === 'step')
        throw new ClaudeCodeCostLimitError(context.budgetCap.step, context.budgetCap.maxCostUsd, spent);
      throw new ClaudeCodeBudgetError(
        `budget: the Claude Code session stopped at the run's remaining budget after spending $${spent.costUsd.toFixed(4)}`,
        spent,
      );
    default:
      throw new ClaudeCodeError(
        `the Claude Code session failed (${result.subtype})${errorsOf(result.errors, context.env)}`,
        {
          spent,
        },
      );
  }
}

function errorsOf(errors: string[] | undefined, env: Readonly<Record<string, string | undefined>> | undefined): string {
  const text = (errors ?? [])
    .map((e) => e.trim())
    .filter(Boolean)
    .join('; ');
  return text === '' ? '' : `: ${sanitizeMessage(text, env)}`;
}

function sum(values: (number | undefined)[]): number {
  return values.reduce<number>((total, v) => total + (v ?? 0), 0);
}
