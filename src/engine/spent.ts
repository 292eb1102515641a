// What a failed attempt had already spent. A step whose calls were paid for and then failed (a
// structured answer that never validated, a Claude Code session out of turns, a call that timed out
// after two paid retries…) still cost money: the error carries the bill so that the journal, the
// run's totals and its budget report say what was really spent.
import type { Usage } from '../providers/provider.js';
import { addCost, addUsage, NO_USAGE } from './step-handler.js';

export interface Spent {
  usage: Usage;
  /** null: a call of the attempt used a model whose price is unknown. */
  costUsd: number | null;
  calls: number;
  /** Attempts of those calls, retries included: a failed step's record shows what it really tried. */
  attempts: number;
  retries: number;
  /**
   * What the failed execution says of itself for its record: a claude_code session's id and turns
   * (a paid session's id is how to inspect it, or `claude --resume` it).
   */
  details?: Record<string, unknown>;
  /** Paid calls whose price is unknown: `costUsd` is the known part of the bill. */
  unpricedCalls?: number;
  /** Calls answered from the cache or a cassette (they cost nothing), and what they saved. */
  cacheHits?: number;
  costSavedUsd?: number;
  /**
   * A batch's: how many of its journaled items it ran itself — their calls are in `calls`. The run's
   * totals count the batch's other journaled items (an earlier attempt's) from the journal.
   */
  items?: number;
  /**
   * The executions of the run whose calls were counted in this bill as paid (recovered: they
   * crashed before a record carried them): a failed record lists them with its own (`executions`),
   * so that a later execution counts them no more.
   */
  recoveredFrom?: string[];
}

export const NOTHING_SPENT: Spent = { usage: NO_USAGE, costUsd: 0, calls: 0, attempts: 0, retries: 0 };

/**
 * Whether some of it was paid for: money, tokens, or calls of unknown price. A call cut off by a
 * stop before its answer paid nothing the engine knows of; a cache hit paid nothing.
 */
export function paidFor(spent: Spent): boolean {
  return (
    spent.costUsd !== 0 || spent.usage.inputTokens + spent.usage.outputTokens > 0 || (spent.unpricedCalls ?? 0) > 0
  );
}

/** Attaches what was spent to an error on its way out (an error may already carry some). */
export function withSpent(error: unknown, spent: Spent): unknown {
  if (spent.calls === 0 && spent.costUsd === 0 && !spent.items) return error;
  if (error !== null && typeof error === 'object') {
    Object.defineProperty(error, 'spent', {
      value: addSpent(spentOf(error), spent),
      configurable: true,
      enumerable: false,
    });
  }
  return error;
}

/** What an error says was spent before it was thrown (nothing when it says nothing). */
export function spentOf(error: unknown): Spent {
  const spent = (error as { spent?: Partial<Spent> & { usage?: Usage; sessionId?: string; numTurns?: number } } | null)
    ?.spent;
  if (!spent?.usage) return NOTHING_SPENT;
  const calls = spent.calls ?? 1;
  const result: Spent = {
    usage: spent.usage,
    costUsd: spent.costUsd === undefined ? 0 : spent.costUsd,
    calls,
    attempts: spent.attempts ?? calls,
    retries: spent.retries ?? 0,
  };
  if (spent.items !== undefined) result.items = spent.items;
  if (spent.unpricedCalls) result.unpricedCalls = spent.unpricedCalls;
  const details = {
    ...spent.details,
    ...(spent.sessionId === undefined ? {} : { session_id: spent.sessionId }),
    ...(spent.numTurns === undefined ? {} : { num_turns: spent.numTurns }),
  };
  if (Object.keys(details).length > 0) result.details = details;
  if (spent.cacheHits) result.cacheHits = spent.cacheHits;
  if (spent.costSavedUsd) result.costSavedUsd = spent.costSavedUsd;
  if (spent.recoveredFrom) result.recoveredFrom = spent.recoveredFrom;
  return result;
}

export function addSpent(a: Spent, b: Spent): Spent {
  const sum: Spent = {
    usage: addUsage(a.usage, b.usage),
    costUsd: addCost(a.costUsd, b.costUsd),
    calls: a.calls + b.calls,
    attempts: a.attempts + b.attempts,
    retries: a.retries + b.retries,
  };
  if (a.items !== undefined || b.items !== undefined) sum.items = (a.items ?? 0) + (b.items ?? 0);
  if (a.details || b.details) sum.details = { ...a.details, ...b.details };
  if (a.unpricedCalls || b.unpricedCalls) sum.unpricedCalls = (a.unpricedCalls ?? 0) + (b.unpricedCalls ?? 0);
  if (a.cacheHits || b.cacheHits) sum.cacheHits = (a.cacheHits ?? 0) + (b.cacheHits ?? 0);
  if (a.costSavedUsd || b.costSavedUsd) sum.costSavedUsd = (a.costSavedUsd ?? 0) + (b.costSavedUsd ?? 0);
  if (a.recoveredFrom || b.recoveredFrom)
    sum.recoveredFrom = [...new Set([...(a.recoveredFrom ?? []), ...(b.recoveredFrom ?? [])])];
  return sum;
}
