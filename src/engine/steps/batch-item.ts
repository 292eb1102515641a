// One item of a batch: the step_template as a model call with `item` and `index` in scope, under the
// batch's cancellation, falling back as the template says. The item's timeout (`timeout:` of the
// template, else `defaults.timeout`; a fallback's own `timeout:` for that fallback's calls) bounds
// each call attempt; it is handed to the model caller rather than armed here, so an item costs no
// timer or AbortController of its own (a batch runs tens of thousands of them).
import type { Step, StepTemplate } from '../../config/schema.js';
import { type ItemRecord, STOPPED_ITEM_PREFIX } from '../../journal/store.js';
import { withItem } from '../../template/scope.js';
import { innerStop, messageOf, stopReasonOf } from '../errors.js';
import { addSpent, NOTHING_SPENT, type Spent } from '../spent.js';
import { addCost, addUsage, type StepExecution, type StepOutcome } from '../step-handler.js';
import { fallbacksOf, mergeFallback } from '../step-runner.js';
import { itemKey } from './batch-payers.js';
import { executeLlmCall } from './llm.js';

export interface ItemRun {
  outcome?: StepOutcome;
  /** Why the item failed (its first call's error); for an item stopped by its batch, why the batch stopped. */
  error?: unknown;
  /**
   * What the calls of an item that failed or was stopped paid for, its failed fallbacks' included:
   * as each call told it (`exec.bill`), never read off the errors — a stopped call's error is the
   * batch's stop reason, one object every item stopped with it would add its bill to.
   */
  spent?: Spent;
  /**
   * The batch was stopped while the item ran (its timeout, the run's stop, a failure elsewhere): it
   * neither succeeded nor failed on its own. Journaled only if some of its calls were paid for
   * (paidFor): failed, with that bill, which a resume that runs it again carries on.
   */
  cancelled: boolean;
}

/**
 * Stops the items running under `cancel`, for `reason` (the step's timeout, the run's stop, the
 * batch's failure) — with a reason of their own (innerStop), as a parallel group stops its
 * sub-steps: a cancelled call attaches its bill to the error it is stopped with (steps/llm.ts); a
 * stopped item's bill is on its own row (itemRecordOf), and must not ride on the error the batch
 * throws too, whose bill the batch's row keeps: that would count it twice.
 */
export function stopItems(cancel: AbortController, reason: unknown): void {
  if (!cancel.signal.aborted) cancel.abort(innerStop(reason));
}

/** What an item stopped by its batch says in the journal: why the batch stopped. */
function stoppedError(cancel: AbortSignal): unknown {
  return stopReasonOf(cancel.reason);
}

/** The calls an item may make, in order: the template, then each of its fallbacks. */
export function itemCalls(
  template: StepTemplate,
  defaultTimeout: StepTemplate['timeout'],
  batch: { retry?: StepTemplate['retry']; cache?: StepTemplate['cache'] } = {},
): StepTemplate[] {
  const timeout = template.timeout ?? defaultTimeout;
  // The batch step's `retry:` and `cache:` are its items' calls' unless the template sets its own.
  const retry = template.retry ?? batch.retry;
  const cache = template.cache ?? batch.cache;
  const first: StepTemplate = Object.assign({}, template);
  if (timeout !== undefined) first.timeout = timeout;
  if (retry !== undefined) first.retry = retry;
  if (cache !== undefined) first.cache = cache;
  const fallbacks = fallbacksOf(template as unknown as Step).map(
    (f) => mergeFallback(first as unknown as Step, f) as unknown as StepTemplate,
  );
  return [first, ...fallbacks];
}

/** Runs item `index`; never throws — the result says how it ended. */
export async function runBatchItem(
  calls: StepTemplate[],
  exec: StepExecution,
  item: unknown,
  index: number,
  cancel: AbortSignal,
): Promise<ItemRun> {
  const key = itemKey(exec.key, index);
  const scope = withItem(exec.scope, item, index);
  let firstError: unknown;
  // What failed attempts (and failed fallbacks) paid for stays on the item's bill.
  let spent = NOTHING_SPENT;
  // What the call that just failed paid for, as it tells it (never read off its error: see ItemRun).
  let billed = NOTHING_SPENT;
  const bill = (calls: Spent): void => {
    billed = addSpent(billed, calls);
  };
  for (const call of calls) {
    if (cancel.aborted) return { error: stoppedError(cancel), spent, cancelled: true };
    billed = NOTHING_SPENT;
    try {
      const outcome = await executeLlmCall(call, { run: exec.run, key, signal: cancel, scope, bill });
      if (spent.calls === 0) return { outcome, cancelled: false };
      // The failed calls' of unknown price too: the cost is the known part of all the item's calls.
      const d = outcome.details ?? {};
      const unpriced = Number(d.unpriced_calls ?? 0) + (spent.unpricedCalls ?? 0);
      const cacheHits = Number(d.cache_hits ?? 0) + (spent.cacheHits ?? 0);
      const costSavedUsd = Number(d.cost_saved_usd ?? 0) + (spent.costSavedUsd ?? 0);
      return {
        outcome: {
          ...outcome,
          usage: addUsage(outcome.usage, spent.usage),
          costUsd: addCost(outcome.costUsd, spent.costUsd),
          attempts: outcome.attempts + spent.attempts,
          details: {
            ...d,
            calls: Number(d.calls ?? 0) + spent.calls,
            retries: Number(d.retries ?? 0) + spent.retries,
            // A failed call answered from the cache saved what a fallback's success does not undo.
            ...(cacheHits > 0 ? { cache_hits: cacheHits } : {}),
            ...(costSavedUsd > 0 ? { cost_saved_usd: costSavedUsd } : {}),
            ...(unpriced > 0 ? { unpriced_calls: unpriced } : {}),
          },
        },
        cancelled: false,
      };
    } catch (error) {
      spent = addSpent(spent, billed);
      // Stopped, not failed: the error is the batch's reason (and the bill the item's all the same).
      if (cancel.aborted) return { error: stoppedError(cancel), spent, cancelled: true };
      if (firstError === undefined) firstError = error;
    }
  }
  return { error: firstError, spent, cancelled: false };
}

/**
 * What a batch counts of its items' calls (step details). `calls`: those this attempt (or a chunk's
 * delivery) made; the batch's and the run's are the journaled items' own.
 */
export interface ItemCallStats {
  calls: number;
  cacheHits: number;
  retries: number;
  costSavedUsd: number;
}

/**
 * The journal record of a finished item (local or on a cluster worker), its calls with it — the run's
 * total counts the journal's items, whoever ran them, whatever a batch or a chunk reports (a chunk
 * delivered again reports nothing of the items already done) — and its cache hits, retries and
 * savings added to `stats`. A failed item keeps what its attempts paid for, its calls of unknown
 * price counted with it; so does an item stopped by its batch after paid calls (failed, `stopped: …`).
 */
export function itemRecordOf(
  result: ItemRun,
  where: { runId: string; stepKey: string; index: number; durationMs: number },
  stats: ItemCallStats,
): ItemRecord {
  const { outcome } = result;
  const spent = outcome ? undefined : (result.spent ?? NOTHING_SPENT);
  const record: ItemRecord = {
    runId: where.runId,
    stepKey: where.stepKey,
    index: where.index,
    durationMs: where.durationMs,
    status: outcome ? 'succeeded' : 'failed',
    usage: outcome ? outcome.usage : (spent as Spent).usage,
    costUsd: outcome ? outcome.costUsd : (spent as Spent).costUsd,
    attempts: outcome ? outcome.attempts : Math.max(1, (spent as Spent).attempts),
  };
  let unpriced: number;
  if (outcome) {
    record.output = outcome.output;
    const d = outcome.details ?? {};
    record.calls = Number(d.calls ?? 0);
    unpriced = Number(d.unpriced_calls ?? 0);
    stats.cacheHits += Number(d.cache_hits ?? 0);
    stats.retries += Number(d.retries ?? 0);
    stats.costSavedUsd += Number(d.cost_saved_usd ?? 0);
  } else {
    const failed = spent as Spent;
    record.error = result.cancelled ? `${STOPPED_ITEM_PREFIX}${messageOf(result.error)}` : messageOf(result.error);
    record.calls = failed.calls;
    unpriced = failed.unpricedCalls ?? 0;
    // A failed call answered from the cache counts (and saved), as a failed step's does.
    stats.cacheHits += failed.cacheHits ?? 0;
    stats.retries += failed.retries;
    stats.costSavedUsd += failed.costSavedUsd ?? 0;
  }
  // Kept even beside a known cost: that cost is only the priced calls' (a priced call, then an
  // unpriced fallback), and the run's totals count the rest from here.
  if (unpriced > 0) record.unpricedCalls = unpriced;
  stats.calls += record.calls;
  return record;
}
