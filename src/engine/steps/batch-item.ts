// One item of a batch: the step_template as a model call with `item` and `index` in scope, under the
// batch's cancellation, falling back as the template says. The item's timeout (`timeout:` of the
// template, else `defaults.timeout`; a fallback's own `timeout:` for that fallback's calls) bounds
// each call attempt; it is handed to the model caller rather than armed here, so an item costs no
// timer or AbortController of its own (a batch runs tens of thousands of them).
import type { Step, StepTemplate } from '../../config/schema.js';
import type { ItemRecord } from '../../journal/store.js';
import { withItem } from '../../template/scope.js';
import { messageOf } from '../errors.js';
import { addSpent, NOTHING_SPENT, type Spent, spentOf, withSpent } from '../spent.js';
import { addCost, addUsage, type StepExecution, type StepOutcome } from '../step-handler.js';
import { fallbacksOf, mergeFallback } from '../step-runner.js';
import { executeLlmCall } from './llm.js';

export interface ItemRun {
  outcome?: StepOutcome;
  error?: unknown;
  /** The batch was cancelled while the item ran: it neither succeeded nor failed. */
  cancelled: boolean;
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
  const key = `${exec.key}[${index}]`;
  const scope = withItem(exec.scope, item, index);
  let firstError: unknown;
  // What failed attempts (and failed fallbacks) paid for stays on the item's bill.
  let spent = NOTHING_SPENT;
  // The part of it the first error does not carry already (the errors of the fallbacks after it).
  let spentAfterFirst = NOTHING_SPENT;
  for (const call of calls) {
    if (cancel.aborted) return { cancelled: true };
    try {
      const outcome = await executeLlmCall(call, { run: exec.run, key, signal: cancel, scope });
      if (spent.calls === 0) return { outcome, cancelled: false };
      // The failed calls' of unknown price too: the cost is the known part of all the item's calls.
      const unpriced = Number(outcome.details?.unpriced_calls ?? 0) + (spent.unpricedCalls ?? 0);
      return {
        outcome: {
          ...outcome,
          usage: addUsage(outcome.usage, spent.usage),
          costUsd: addCost(outcome.costUsd, spent.costUsd),
          attempts: outcome.attempts + spent.attempts,
          details: {
            ...outcome.details,
            calls: Number(outcome.details?.calls ?? 0) + spent.calls,
            retries: Number(outcome.details?.retries ?? 0) + spent.retries,
            ...(unpriced > 0 ? { unpriced_calls: unpriced } : {}),
          },
        },
        cancelled: false,
      };
    } catch (error) {
      if (cancel.aborted) return { cancelled: true };
      spent = addSpent(spent, spentOf(error));
      if (firstError === undefined) firstError = error;
      else spentAfterFirst = addSpent(spentAfterFirst, spentOf(error));
    }
  }
  // withSpent adds to what the error carries: the first error's own bill is in it once already.
  return { error: withSpent(firstError, spentAfterFirst), cancelled: false };
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
 * savings added to `stats`. A failed item keeps what its attempts paid for: the error carries the bill,
 * its calls of unknown price counted with it.
 */
export function itemRecordOf(
  result: ItemRun,
  where: { runId: string; stepKey: string; index: number; durationMs: number },
  stats: ItemCallStats,
): ItemRecord {
  const { outcome } = result;
  const spent = outcome ? undefined : spentOf(result.error);
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
    record.error = messageOf(result.error);
    record.calls = (spent as Spent).calls;
    unpriced = (spent as Spent).unpricedCalls ?? 0;
    stats.retries += (spent as Spent).retries;
  }
  // Kept even beside a known cost: that cost is only the priced calls' (a priced call, then an
  // unpriced fallback), and the run's totals count the rest from here.
  if (unpriced > 0) record.unpricedCalls = unpriced;
  stats.calls += record.calls;
  return record;
}
