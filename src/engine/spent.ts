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
}

export const NOTHING_SPENT: Spent = { usage: NO_USAGE, costUsd: 0, calls: 0 };

/** Attaches what was spent to an error on its way out (an error may already carry some). */
export function withSpent(error: unknown, spent: Spent): unknown {
  if (spent.calls === 0 && spent.costUsd === 0) return error;
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
  const spent = (error as { spent?: Partial<Spent> & { usage?: Usage } } | null)?.spent;
  if (!spent?.usage) return NOTHING_SPENT;
  return {
    usage: spent.usage,
    costUsd: spent.costUsd === undefined ? 0 : spent.costUsd,
    calls: spent.calls ?? 1,
  };
}

export function addSpent(a: Spent, b: Spent): Spent {
  return { usage: addUsage(a.usage, b.usage), costUsd: addCost(a.costUsd, b.costUsd), calls: a.calls + b.calls };
}
