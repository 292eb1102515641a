// A run's budget: `budget: { max_cost_usd, max_tokens }` in the pipeline, `--max-cost` on the
// command line. Before each call the guard asks: could this call, at its worst (see estimate.ts),
// take the run past a limit, counting what is spent and what calls in flight may still spend?
// If so the call is not made and the run stops with BudgetExceededError; everything finished stays
// in the journal. After the call, the real usage replaces the estimate.
// Calls to a model missing from the price table cannot be priced: max_cost_usd does not stop them
// (max_tokens still does), and they are counted as unpriced.
// This is the budget of a run on one machine; in cluster mode the same check is made on a ledger
// in Redis shared by every worker of the run (src/cluster/shared-budgets.ts), in the same words.
import { formatCost } from '../cli/format.js';
import { ElexirionError } from '../errors.js';
import type { ModelRequest, Usage } from '../providers/provider.js';
import { estimateUsage } from './estimate.js';
import type { RunBudget } from './run-budget.js';

export type PriceFn = (provider: string, model: string, usage: Usage) => number | null;

export interface BudgetLimits {
  maxCostUsd?: number;
  maxTokens?: number;
}

export interface BudgetSpent {
  costUsd: number;
  tokens: number;
}

export class BudgetExceededError extends ElexirionError {
  /**
   * Where the run stood when a reservation was refused (set by costRefusal / tokenRefusal, local or
   * cluster): a caller that decides what it asks for (a claude_code session's cap) can ask for less.
   */
  readonly standing?: BudgetStanding & { limitOf: 'cost' | 'tokens' };
  constructor(message: string, standing?: BudgetStanding & { limitOf: 'cost' | 'tokens' }) {
    super(message, {
      hint: 'finished steps are kept: `elexirion resume RUN_ID --max-cost USD` continues the run with a higher cost limit (or raise `budget:` in the pipeline, then `elexirion resume RUN_ID --force`)',
    });
    if (standing) this.standing = standing;
  }
}

export interface BudgetReservation {
  costUsd: number;
  tokens: number;
}

/** The in-memory budget of a run on one machine (see run-budget.ts for the cluster's). */
export class BudgetGuard implements RunBudget {
  private spentCost: number;
  private spentTokens: number;
  /** Worst cases of the calls in flight: parallel calls must not each see the whole budget free. */
  private reservedCost = 0;
  private reservedTokens = 0;
  unpricedCalls = 0;

  constructor(
    readonly limits: BudgetLimits,
    private readonly price: PriceFn,
    /** Totals of a resumed run: what earlier attempts already spent. */
    alreadySpent: BudgetSpent = { costUsd: 0, tokens: 0 },
  ) {
    this.spentCost = alreadySpent.costUsd;
    this.spentTokens = alreadySpent.tokens;
  }

  get spent(): BudgetSpent {
    return { costUsd: this.spentCost, tokens: this.spentTokens };
  }

  /** Checks the call against the limits and holds its worst case until `commit` or `release`. */
  reserve(request: ModelRequest, step: string, price: PriceFn = this.price): BudgetReservation {
    const usage = estimateUsage(request);
    const tokens = usage.inputTokens + usage.outputTokens;
    const costUsd = price(request.provider, request.model, usage) ?? 0;
    const { maxCostUsd, maxTokens } = this.limits;
    if (maxCostUsd !== undefined && this.spentCost + this.reservedCost + costUsd > maxCostUsd) {
      throw costRefusal(step, request, {
        spent: this.spentCost,
        inFlight: this.reservedCost,
        limit: maxCostUsd,
        call: costUsd,
      });
    }
    if (maxTokens !== undefined && this.spentTokens + this.reservedTokens + tokens > maxTokens) {
      throw tokenRefusal(step, request, {
        spent: this.spentTokens,
        inFlight: this.reservedTokens,
        limit: maxTokens,
        call: tokens,
      });
    }
    this.reservedCost += costUsd;
    this.reservedTokens += tokens;
    return { costUsd, tokens };
  }

  /** The call finished: its real usage and cost replace the estimate. */
  commit(reservation: BudgetReservation, usage: Usage, costUsd: number | null): void {
    this.release(reservation);
    this.spend(usage, costUsd);
  }

  /**
   * A paid hit (see RunBudget): spent, with no reservation to replace — never refused, it was paid
   * already; the calls after it are checked against it. Opened from the journal's totals, which do
   * not have it yet, this budget counts it once; the next execution's reads it from the journal.
   */
  countRecovered(usage: Usage, costUsd: number | null): void {
    this.spend(usage, costUsd);
  }

  /** The call failed without a usage report: free its worst case. */
  release(reservation: BudgetReservation): void {
    this.reservedCost = Math.max(0, this.reservedCost - reservation.costUsd);
    this.reservedTokens = Math.max(0, this.reservedTokens - reservation.tokens);
  }

  private spend(usage: Usage, costUsd: number | null): void {
    this.spentTokens += usage.inputTokens + usage.outputTokens;
    if (costUsd === null) this.unpricedCalls++;
    else this.spentCost += costUsd;
  }
}

/** Where a run's spending stood when a call was refused: spent, held by calls in flight, the limit, the call. */
export interface BudgetStanding {
  spent: number;
  inFlight: number;
  limit: number;
  call: number;
}

/** The refusal of a call that could take the run past max_cost_usd (one wording, local or cluster). */
export function costRefusal(step: string, request: ModelRequest, at: BudgetStanding): BudgetExceededError {
  return new BudgetExceededError(
    `budget: step "${step}" stopped before calling ${request.provider}/${request.model}: spent ${usd(at.spent)}` +
      (at.inFlight > 0 ? ` (+ up to ${usd(at.inFlight)} in flight)` : '') +
      ` of max_cost_usd ${usd(at.limit)}, and this call could cost up to ${usd(at.call)}`,
    { ...at, limitOf: 'cost' },
  );
}

/** The refusal of a call that could take the run past max_tokens. */
export function tokenRefusal(step: string, request: ModelRequest, at: BudgetStanding): BudgetExceededError {
  return new BudgetExceededError(
    `budget: step "${step}" stopped before calling ${request.provider}/${request.model}: used ${at.spent} tokens` +
      (at.inFlight > 0 ? ` (+ up to ${at.inFlight} in flight)` : '') +
      ` of max_tokens ${at.limit}, and this call could use up to ${at.call}`,
    { ...at, limitOf: 'tokens' },
  );
}

/** A cost in the CLI's format (`$0`, `$0.0123`, `$1.50`): the message is printed as it is. */
function usd(value: number): string {
  return formatCost(value);
}
