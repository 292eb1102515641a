// What a run's budget is to the engine: reserve a call's worst case before it is made, then commit
// its real usage or release it. Two implementations: BudgetGuard, in memory, for a run on one
// machine — synchronous, so the per-call path gains no await; and a ledger in Redis
// (src/cluster/shared-budgets.ts) in cluster mode, shared by the run's worker and every worker
// running chunks of its batches — whose `reserve` answers a promise, because it asks Redis.
import type { Pipeline } from '../config/schema.js';
import type { RunTotals } from '../journal/store.js';
import type { ModelRequest, Usage } from '../providers/provider.js';
import type { BudgetLimits, BudgetReservation, BudgetSpent, PriceFn } from './budget-guard.js';

export interface RunBudget {
  readonly limits: BudgetLimits;
  /** What the run has spent, as this process last knew it. */
  readonly spent: BudgetSpent;
  /**
   * Checks the call against the limits (BudgetExceededError) and holds its worst case. `price`:
   * how the caller prices its provider (a pipeline's — or a child pipeline's — `type:` and
   * `prices:`); without it, the budget's own, which knows only the built-in price table. `signal`:
   * the call may wait, until it fires, for calls in flight to settle when only their worst cases
   * stand in its way (BudgetGuard; the cluster's ledger refuses such a call at once).
   */
  reserve(
    request: ModelRequest,
    step: string,
    price?: PriceFn,
    signal?: AbortSignal,
  ): BudgetReservation | Promise<BudgetReservation>;
  /** The call finished: its real usage and cost replace the estimate (cost null: unpriced). */
  commit(reservation: BudgetReservation, usage: Usage, costUsd: number | null): void;
  /** The call failed without a usage report: free its worst case. */
  release(reservation: BudgetReservation): void;
  /**
   * Counts a call this execution did not make but must pay for: a paid hit (model-caller.ts), an
   * answer found in the cache that an execution of the run paid for and crashed before journaling.
   * Its bill reaches the journal only with this execution's record of the step or item, so a budget
   * opened from the journal's totals (BudgetGuard) has not counted it, and later calls must see it.
   * Absent from a budget that outlives executions: the cluster's ledger counted the call when it
   * was paid (counting it again would count it twice).
   */
  countRecovered?(usage: Usage, costUsd: number | null): void;
}

export interface SharedBudgetOpening {
  runId: string;
  limits: BudgetLimits;
  price: PriceFn;
  /**
   * What the journal says the run has spent. Known (the run's worker, at the start of an attempt):
   * the shared ledger is raised to at least that. A function (a worker running a chunk): read only
   * when the ledger does not exist yet.
   */
  journaled: BudgetSpent | (() => Promise<BudgetSpent>);
}

/** Cluster mode: the budget of a run, shared by every process that opens it. */
export type SharedBudgetFactory = (opening: SharedBudgetOpening) => RunBudget;

/** The run's limits: the pipeline's `budget:`, overridden by the run's options (--max-cost). */
export function budgetLimits(
  budget: Pipeline['budget'],
  options: { maxCostUsd?: number; maxTokens?: number },
): BudgetLimits | undefined {
  const limits: BudgetLimits = {
    ...(budget?.max_cost_usd === undefined ? {} : { maxCostUsd: budget.max_cost_usd }),
    ...(budget?.max_tokens === undefined ? {} : { maxTokens: budget.max_tokens }),
    ...(options.maxCostUsd === undefined ? {} : { maxCostUsd: options.maxCostUsd }),
    ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens }),
  };
  return limits.maxCostUsd === undefined && limits.maxTokens === undefined ? undefined : limits;
}

/** What a budget counts of the journal's totals. */
export function spentOfTotals(totals: RunTotals): BudgetSpent {
  return { costUsd: totals.costUsd, tokens: totals.inputTokens + totals.outputTokens };
}
