// `batch` / `claude_batch`: maps the step_template over `items`. Items are grouped into batches of
// `batch_size`; a fixed window of `max_parallel` workers pulls the next batch and runs its items one
// after another — so a batch of 100,000 items holds at most `max_parallel` calls in flight, never
// 100,000 promises. Every finished item goes to the journal (grouped commits, see ItemCommitter);
// results live there, not in memory, and the output is assembled from the journal at the end.
// A resumed batch runs only the items the journal does not have as succeeded.

import { setMaxListeners } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BudgetExceededError } from '../../budget/budget-guard.js';
import { describeValue } from '../../config/path.js';
import type { BatchStep } from '../../config/schema.js';
import { ElexirionError, ExitCode } from '../../errors.js';
import { renderDeep, renderValue } from '../../template/render.js';
import { messageOf, StepTimeoutError } from '../errors.js';
import { ItemCommitter } from '../item-committer.js';
import { NOTHING_SPENT, paidFor, type Spent, withSpent } from '../spent.js';
import { NO_USAGE, type StepExecution, type StepHandler, type StepOutcome } from '../step-handler.js';
import { placedItemError } from '../step-template-place.js';
import { type ItemCallStats, itemCalls, itemRecordOf, runBatchItem, stopItems } from './batch-item.js';
import { addEarlierSpend, assembleBatch, BatchAssembly, succeededItems } from './batch-journal.js';
import { ItemPayers } from './batch-payers.js';
import { BatchProgress } from './batch-progress.js';
import { remoteBatchOf } from './batch-remote.js';
import { runWorkers } from './worker-pool.js';

export const DEFAULT_BATCH_MAX_PARALLEL = 10;
/**
 * Items that answer at once (cache hits, a zero-latency mock) would run the whole batch as one
 * chain of microtasks, starving the event loop: no signal handler, timer, progress line or other
 * run would get a turn. The workers yield a turn at least this often.
 */
const MAX_SLICE_MS = 10;

export const batchHandler: StepHandler<BatchStep> = {
  types: ['batch', 'claude_batch'],
  execute: (step, exec) => executeBatch(step, exec),
};

/** A batch item failed and `on_item_error` is `fail`. */
export class BatchItemError extends ElexirionError {
  readonly index: number;
  constructor(index: number, total: number, cause: unknown) {
    super(`item ${index} of ${total} failed: ${messageOf(cause)}`, {
      cause,
      hint: 'set `on_item_error: continue` on the batch step to record failed items as null and go on',
    });
    this.index = index;
  }
}

/**
 * Up to this many items, a batch run from scratch assembles its output in memory as its items are
 * journaled (the output list is the step's result either way); beyond, it pages through the journal.
 */
const ASSEMBLE_IN_MEMORY_UP_TO = 10_000;

async function executeBatch(step: BatchStep, exec: StepExecution): Promise<StepOutcome> {
  const { run, key } = exec;
  const { store } = run.services;
  run.noteBatch();
  const items = itemsOf(step, exec);
  const total = items.length;
  const batchSize = step.batch_size ?? 1;
  const batches = Math.ceil(total / batchSize);
  const failFast = (step.on_item_error ?? 'fail') === 'fail';
  const done = await succeededItems(store, run.id, key, total);

  // Cancels in-flight items: on the step's timeout, the run's stop, or the first failure (fail mode).
  const cancel = new AbortController();
  setMaxListeners(0, cancel.signal); // one listener per in-flight item, by design
  const onStepAbort = () => stopItems(cancel, exec.signal.reason);
  exec.signal.addEventListener('abort', onStepAbort, { once: true });
  // Stopped while the journal was read (a round-trip on PostgreSQL, a page per 2,000 items on a
  // resume): the event is gone, and a listener added to an aborted signal is never called — the
  // items would all run, after the step has ended.
  if (exec.signal.aborted) onStepAbort();

  // Only a top-level step of the run's own pipeline goes to the cluster: the workers running its
  // chunks find it by name there. A batch inside a `parallel` group has a key without a '/' too.
  const topLevel = run.keyPrefix === '' && run.loaded.pipeline.steps.includes(step);
  const remote = topLevel ? remoteBatchOf(run.services.bus) : undefined;
  const spread = remote?.accepts(key, total) ? remote : undefined;
  // A batch run here from scratch, and not too large, keeps its output as its items are journaled;
  // any other reads it back from the journal at its end (its results live there, not in memory).
  const fresh = !spread && done.count === 0 && done.failed.size === 0 && total <= ASSEMBLE_IN_MEMORY_UP_TO;
  const assembly = fresh ? new BatchAssembly(total) : undefined;

  const calls = itemCalls(step.step_template, run.defaults.timeout, { retry: step.retry, cache: step.cache });
  const committer = new ItemCommitter(store, () => run.takeEvents());
  const progress = new BatchProgress(run, key, total, done.count);
  const stats = { calls: 0, cacheHits: 0, retries: 0, costSavedUsd: 0 };
  let failure: BatchItemError | BudgetExceededError | undefined;
  let nextBatch = 0;
  /** Items this attempt ran and journaled (`items_run`; their calls are journaled with them). */
  let ran = 0;

  const runItem = async (index: number): Promise<void> => {
    const t0 = performance.now();
    const result = await runBatchItem(calls, exec, items[index], index, cancel.signal);
    // A step_template's template that failed for this item is named at its place in the file (the
    // place looked for only now), in the item's row and in the batch's failure.
    if (result.outcome === undefined && !result.cancelled)
      result.error = placedItemError(result.error, run.loaded, step);
    // Stopped by the batch (neither succeeded nor failed): a resume runs it again. Journaled (failed,
    // `stopped: …`) only when some of its calls were paid for: its row keeps that bill, which the
    // run's totals and a resume's budget count, and the row of its next run carries on.
    if (result.cancelled && !paidFor(result.spent ?? NOTHING_SPENT)) return;
    const record = itemRecordOf(
      result,
      { runId: run.id, stepKey: key, index, durationMs: Math.round(performance.now() - t0) },
      stats,
    );
    // This row replaces the one of the attempt that failed: it keeps that attempt's bill.
    const earlier = done.failed.get(index);
    if (earlier) {
      addEarlierSpend(record, earlier);
      done.failed.delete(index);
    }
    // A budget refusal stops the batch whatever `on_item_error` says: the items after it would be
    // refused too, and the run must end resumable (with a larger budget), not succeed with holes.
    // The batch's failure is an error of its own, never the item's: the item's error carries the
    // item's bill, which its row keeps — the batch's row keeping it too would count it twice.
    if (!result.outcome && !result.cancelled && !failure) {
      if (result.error instanceof BudgetExceededError) {
        failure = new BudgetExceededError(result.error.message, result.error.standing);
      } else if (failFast) failure = new BatchItemError(index, total, result.error);
      if (failure) stopItems(cancel, failure);
    }
    ran++;
    if (!result.cancelled) {
      progress.finished(record.status === 'failed');
      assembly?.add(record);
    }
    await committer.add(record);
  };

  let sliceStart = performance.now();
  const worker = async (): Promise<void> => {
    while (!cancel.signal.aborted) {
      const batch = nextBatch++;
      if (batch >= batches) return;
      const end = Math.min(total, (batch + 1) * batchSize);
      for (let index = batch * batchSize; index < end && !cancel.signal.aborted; index++) {
        if (done.flags?.[index] === 1) continue;
        await runItem(index);
        if (performance.now() - sliceStart > MAX_SLICE_MS) {
          await nextTurn();
          sliceStart = performance.now();
        }
      }
    }
  };

  // Run here, its items' calls name who pays for them: an item's answer paid before a crash, found
  // in the cache when it runs again, is the item's bill, not a saving (batch-payers.ts).
  let forgetRows: (() => void) | undefined;
  if (!spread) {
    run.itemPayers ??= new ItemPayers(run);
    forgetRows = run.itemPayers.open(key, done.failed);
  }
  try {
    if (spread) {
      // Cluster mode: the items run as child jobs on every worker; their results are in the journal.
      Object.assign(
        stats,
        await spread.run({
          runId: run.id,
          stepKey: key,
          total,
          failFast,
          signal: exec.signal,
          onProgress: (finished, failed) => progress.set(finished, failed),
        }),
      );
    } else {
      const workers = Math.min(step.max_parallel ?? DEFAULT_BATCH_MAX_PARALLEL, batches);
      await runWorkers(workers, worker, cancel);
    }
  } finally {
    exec.signal.removeEventListener('abort', onStepAbort);
    forgetRows?.();
    // What finished is durable before the step can end, whichever way it ends.
    await committer.flush();
    progress.end();
  }
  // The step's own failure carries what its items' calls were (their retries, cache hits and
  // savings: see itemsSpent) and how many items it journaled; the items' tokens, cost and calls are
  // on their rows — a stopped item's too — never on the batch's (see totalsOf).
  if (failure) throw withSpent(failure, itemsSpent(stats, ran));
  if (exec.signal.aborted) {
    const reason = exec.signal.reason;
    // Only on its own timeout: a run's stop or a group's timeout is no record of this step's.
    throw reason instanceof StepTimeoutError && reason.step === key
      ? withSpent(reason, itemsSpent(stats, ran))
      : reason;
  }

  const assembled = assembly?.result ?? (await assembleBatch(store, run.id, key, total));
  // The cluster ran every item the journal did not have as succeeded.
  if (spread) ran = assembled.succeeded + assembled.failed - done.count;
  const firstError = assembled.errors[0];
  if (spread && failFast && firstError) {
    throw withSpent(new BatchItemError(firstError.index, total, new Error(firstError.error)), itemsSpent(stats, ran));
  }
  return {
    output: assembled.output,
    usage: assembled.usage,
    costUsd: assembled.costUsd,
    attempts: 1,
    details: {
      items: total,
      succeeded: assembled.succeeded,
      failed: assembled.failed,
      from_journal: done.count,
      items_run: ran,
      items_counted: 0, // its items journal their own calls (see totalsOf)
      // Every journaled item's, as `usage` is: what the journal says, not what this attempt (or a
      // cluster's chunks) counted. The run's totals read the items' own (see totalsOf).
      calls: assembled.calls,
      cache_hits: stats.cacheHits,
      retries: stats.retries,
      cost_saved_usd: stats.costSavedUsd,
      // The items' calls of unknown price, as the journal counts them (the run's totals read the items').
      ...(assembled.unpricedCalls > 0 ? { unpriced_calls: assembled.unpricedCalls } : {}),
      ...(assembled.errors.length > 0 ? { errors: assembled.errors } : {}),
    },
  };
}

/**
 * What the failure of a batch carries of the items it ran: their retries, cache hits and savings
 * (the journal's item rows keep none of these), and how many they were. No tokens, cost or calls:
 * those are the journaled items' own, which the run's totals read from the journal (its row
 * counting them too would count them twice).
 */
function itemsSpent(stats: ItemCallStats, ran: number): Spent {
  const spent: Spent = { usage: NO_USAGE, costUsd: 0, calls: 0, attempts: 0, retries: stats.retries, items: ran };
  if (stats.cacheHits) spent.cacheHits = stats.cacheHits;
  if (stats.costSavedUsd) spent.costSavedUsd = stats.costSavedUsd;
  return spent;
}

/** The rendered `items`: a list, or a step error that says what it got instead. */
export function itemsOf(step: BatchStep, exec: StepExecution): unknown[] {
  const items =
    typeof step.items === 'string' ? renderValue(step.items, exec.scope) : renderDeep(step.items, exec.scope);
  if (Array.isArray(items)) return items;
  throw new ElexirionError(
    `batch step "${step.name}": \`items\` must be a list, but ${JSON.stringify(step.items)} gave ${describeValue(items)}`,
    {
      exitCode: ExitCode.runFailed,
      hint: 'make `items` a list, or a template that is one output tag reading a list, e.g. "{{ inputs.files }}"',
    },
  );
}
