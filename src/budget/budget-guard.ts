// A run's budget: `budget: { max_cost_usd, max_tokens }` in the pipeline, `--max-cost` on the
// command line. Before each call the guard asks: could this call, at its worst (see estimate.ts),
// take the run past a limit, counting what is spent and what calls in flight may still spend?
// If so the call is not made and the run stops with BudgetExceededError; everything finished stays
// in the journal. After the call, the real usage replaces the estimate.
// A call refused only for the worst cases of calls in flight (what is spent leaves room for it)
// waits, when its caller can give up waiting (a signal), for those calls to settle, and is checked
// again then: a batch's max_parallel must not fail a run its budget can pay for. Without a signal
// (a retry's new reservation, taken inside a bulkhead slot; a Claude Code session, which asks for
// less instead) such a call is refused as before.
// Calls to a model missing from the price table cannot be priced: max_cost_usd does not stop them
// (max_tokens still does), and they are counted as unpriced.
// This is the budget of a run on one machine; in cluster mode the same check is made on a ledger
// in Redis shared by every worker of the run (src/cluster/shared-budgets.ts), in the same words.
import { formatCost } from '../cli/format.js';
import { ElexirionError } from '../errors.js';
import type { ModelRequest, Usage } from '../providers/provider.js';
import { abortError } from '../resilience/abort.js';
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
  /**
   * The reservations held. A sum of floats taken apart again does not come back to 0 (0.1 + 0.2 −
   * 0.1 − 0.2 = 5.6e-17): with none held, the sums are reset, so that nothing reads as in flight.
   * A reservation released twice is freed once (it must not free another call's hold).
   */
  private readonly held = new Set<BudgetReservation>();
  /** Calls waiting for calls in flight to settle (see `reserve`), in the order they came. */
  private readonly waiting: Waiter[] = [];
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

  /**
   * Checks the call against the limits and holds its worst case until `commit` or `release`. With a
   * `signal`, a call refused only for the calls in flight waits for them (a promise), until it fits,
   * what is spent leaves no room for it (refused), or the signal fires (its abort error).
   */
  reserve(request: ModelRequest, step: string, price?: PriceFn): BudgetReservation;
  reserve(
    request: ModelRequest,
    step: string,
    price: PriceFn | undefined,
    signal: AbortSignal | undefined,
  ): BudgetReservation | Promise<BudgetReservation>;
  reserve(
    request: ModelRequest,
    step: string,
    price: PriceFn = this.price,
    signal?: AbortSignal,
  ): BudgetReservation | Promise<BudgetReservation> {
    const usage = estimateUsage(request);
    const call: BudgetReservation = {
      costUsd: price(request.provider, request.model, usage) ?? 0,
      tokens: usage.inputTokens + usage.outputTokens,
    };
    if (this.fits(call, true)) return this.hold(call);
    if (!signal || !this.fitsOnceSettled(call)) throw this.refusal(request, step, call);
    if (signal.aborted) throw abortError(request.provider, signal);
    return new Promise<BudgetReservation>((resolve, reject) => {
      const waiter: Waiter = { request, step, call, resolve, reject, signal, onAbort: () => undefined };
      waiter.onAbort = () => {
        this.forget(waiter);
        reject(abortError(request.provider, signal));
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** The call finished: its real usage and cost replace the estimate. */
  commit(reservation: BudgetReservation, usage: Usage, costUsd: number | null): void {
    this.free(reservation);
    this.spend(usage, costUsd);
    this.wakeWaiting();
  }

  /**
   * A paid hit (see RunBudget): spent, with no reservation to replace — never refused, it was paid
   * already; the calls after it are checked against it. Opened from the journal's totals, which do
   * not have it yet, this budget counts it once; the next execution's reads it from the journal.
   */
  countRecovered(usage: Usage, costUsd: number | null): void {
    this.spend(usage, costUsd);
    this.wakeWaiting();
  }

  /** The call failed without a usage report: free its worst case. */
  release(reservation: BudgetReservation): void {
    this.free(reservation);
    this.wakeWaiting();
  }

  /** Whether the call fits what is spent (and, with `inFlight`, the worst cases of the calls in flight). */
  private fits(call: BudgetReservation, inFlight: boolean): boolean {
    const { maxCostUsd, maxTokens } = this.limits;
    const cost = this.spentCost + (inFlight ? this.reservedCost : 0) + call.costUsd;
    const tokens = this.spentTokens + (inFlight ? this.reservedTokens : 0) + call.tokens;
    return (
      (maxCostUsd === undefined || !overLimit(cost, maxCostUsd)) && (maxTokens === undefined || tokens <= maxTokens)
    );
  }

  /** Whether the call would fit once every call in flight has settled at no cost: worth waiting for. */
  private fitsOnceSettled(call: BudgetReservation): boolean {
    return this.held.size > 0 && this.fits(call, false);
  }

  /** Why the call cannot be made now (it does not fit), counting the calls in flight. */
  private refusal(request: ModelRequest, step: string, call: BudgetReservation): BudgetExceededError {
    const { maxCostUsd, maxTokens } = this.limits;
    if (maxCostUsd !== undefined && overLimit(this.spentCost + this.reservedCost + call.costUsd, maxCostUsd)) {
      return costRefusal(step, request, {
        spent: this.spentCost,
        inFlight: this.reservedCost,
        limit: maxCostUsd,
        call: call.costUsd,
      });
    }
    // Not the cost: the tokens (called only for a call that does not fit).
    return tokenRefusal(step, request, {
      spent: this.spentTokens,
      inFlight: this.reservedTokens,
      limit: maxTokens ?? 0,
      call: call.tokens,
    });
  }

  private hold(call: BudgetReservation): BudgetReservation {
    this.held.add(call);
    this.reservedCost += call.costUsd;
    this.reservedTokens += call.tokens;
    return call;
  }

  private free(reservation: BudgetReservation): void {
    if (!this.held.delete(reservation)) return;
    if (this.held.size === 0) {
      this.reservedCost = 0;
      this.reservedTokens = 0;
      return;
    }
    this.reservedCost = Math.max(0, this.reservedCost - reservation.costUsd);
    this.reservedTokens = Math.max(0, this.reservedTokens - reservation.tokens);
  }

  /** After a call settled: admits the waiting calls that fit now, refuses those that never will. */
  private wakeWaiting(): void {
    if (this.waiting.length === 0) return; // the usual case: no copy per call settled
    for (const waiter of [...this.waiting]) {
      if (this.fits(waiter.call, true)) {
        this.forget(waiter);
        waiter.resolve(this.hold(waiter.call));
      } else if (!this.fitsOnceSettled(waiter.call)) {
        this.forget(waiter);
        waiter.reject(this.refusal(waiter.request, waiter.step, waiter.call));
      }
    }
  }

  private forget(waiter: Waiter): void {
    const at = this.waiting.indexOf(waiter);
    if (at >= 0) this.waiting.splice(at, 1);
    waiter.signal.removeEventListener('abort', waiter.onAbort);
  }

  private spend(usage: Usage, costUsd: number | null): void {
    this.spentTokens += usage.inputTokens + usage.outputTokens;
    if (costUsd === null) this.unpricedCalls++;
    else this.spentCost += costUsd;
  }
}

/**
 * Whether `usd` is past `limit`, by more than float sums drift: a thousand calls of $0.001 add up to
 * 0.9990000000000008, and the thousandth was refused under max_cost_usd 1. A billionth of the budget
 * is far more than that drift, and far less than any overshoot that matters.
 */
function overLimit(usd: number, limit: number): boolean {
  return usd > limit + limit * 1e-9;
}

/** A call waiting in `reserve` for the calls in flight to settle. */
interface Waiter {
  request: ModelRequest;
  step: string;
  call: BudgetReservation;
  resolve: (reservation: BudgetReservation) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
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
