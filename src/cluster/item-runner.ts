// The child side of a batch spread over the cluster: runs one chunk of a batch's items on this
// worker. The run's scope (inputs, variables, the outputs of the steps before the batch) is rebuilt
// from the journal, as a resume would; items the journal has as succeeded are skipped, so a chunk
// taken over from a dead worker repeats at most the calls that were in flight when it died.
// The run's budget is the cluster's: its calls reserve in the run's ledger in Redis, with the run's
// worker and the other chunks' workers (shared-budgets.ts); a call it refuses fails its item.
import { setMaxListeners } from 'node:events';
import { UnrecoverableError } from 'bullmq';
import { BudgetExceededError } from '../budget/budget-guard.js';
import { budgetLimits, type SharedBudgetFactory, spentOfTotals } from '../budget/run-budget.js';
import { loadPipelineFromString } from '../config/loader.js';
import type { BatchStep } from '../config/schema.js';
import { ItemCommitter } from '../engine/item-committer.js';
import { restoredOptions } from '../engine/persisted-options.js';
import { type EngineServices, RunContext } from '../engine/run-context.js';
import { isFinished, totalsOf } from '../engine/run-executor.js';
import { runProvider } from '../engine/run-provider.js';
import { NOTHING_SPENT, paidFor } from '../engine/spent.js';
import type { StepExecution } from '../engine/step-handler.js';
import { DEFAULT_BATCH_MAX_PARALLEL, itemsOf } from '../engine/steps/batch.js';
import { itemCalls, itemRecordOf, runBatchItem, stopItems } from '../engine/steps/batch-item.js';
import { addEarlierSpend, earlierSpendOf } from '../engine/steps/batch-journal.js';
import { ItemPayers } from '../engine/steps/batch-payers.js';
import { runWorkers } from '../engine/steps/worker-pool.js';
import { CallCache } from '../journal/call-cache.js';
import type { ItemRecord, Store } from '../journal/store.js';
import { priceCall } from '../pricing/index.js';
import type { GateRegistry } from '../resilience/gate-registry.js';
import { EventBus } from '../telemetry/event-bus.js';
import { createRedaction, type Redaction } from '../telemetry/redaction.js';
import { renderDeep } from '../template/render.js';
import { BUDGET_REFUSED_TAG, type ItemChunkData, type ItemChunkResult, sumChunkResults } from './item-queue.js';

export interface ItemRunnerDeps {
  store: Store;
  gates: GateRegistry;
  env: NodeJS.ProcessEnv;
  /** The secrets of `env` no answer may carry (the worker's engine's); default: built from `env`. */
  redaction?: Redaction;
  /** The run budgets of the cluster (a chunk's calls count against its run's, with every worker's). */
  budgets: SharedBudgetFactory;
  /**
   * Where the items' events go (provider calls, cache hits): the worker's metrics count them there.
   * Not the run's bus: the run's worker reports the batch's progress. Default: nowhere.
   */
  bus?: EventBus;
}

/**
 * Runs items [from, to) of the chunk; `cancelled()` is asked between items (a failed fail-fast
 * batch). `committed`, after each commit of items, is told what the chunk's items journaled so far
 * counted (chunk-stats.ts keeps it for a delivery of the chunk that would find them done).
 */
export async function runItemChunk(
  deps: ItemRunnerDeps,
  chunk: ItemChunkData,
  signal: AbortSignal,
  cancelled: () => boolean,
  committed?: (stats: ItemChunkResult) => void,
): Promise<ItemChunkResult> {
  const { store } = deps;
  const record = await store.getRun(chunk.runId);
  if (!record) throw new Error(`run ${chunk.runId} is not in the journal`);
  const loaded = loadPipelineFromString(
    JSON.stringify(record.pipeline),
    record.pipelineFile ?? `${record.pipelineName}.yaml`,
  );
  const step = loaded.pipeline.steps.find((s) => s.name === chunk.stepKey) as BatchStep | undefined;
  if (!step) throw new Error(`run ${chunk.runId} has no step ${chunk.stepKey}`);

  const cache = new CallCache(store);
  const services: EngineServices = {
    store,
    bus: deps.bus ?? new EventBus(), // item events stay on this worker: the parent reports the batch's progress
    gates: deps.gates,
    cache,
    price: (provider, model, usage) => priceCall(provider, model, usage),
    env: deps.env,
    redaction: deps.redaction ?? createRedaction(deps.env),
    providerFor: (run, name) => runProvider(run, name, deps.env),
  };
  const run = new RunContext({
    id: record.id,
    loaded,
    inputs: record.inputs,
    // As a resume restores them: a run replayed from a cassette never reaches a provider here either.
    options: restoredOptions(record.id, record.metadata.options),
    services,
    startedAt: record.startedAt,
    metadata: record.metadata,
    lastEventSeq: 0,
  });
  if (loaded.pipeline.variables) {
    run.variables = renderDeep(loaded.pipeline.variables, run.scope()) as Record<string, unknown>;
  }
  const journaledSteps = await store.getSteps(record.id);
  for (const journaled of journaledSteps) if (isFinished(journaled)) run.publish(journaled);
  const limits = budgetLimits(loaded.pipeline.budget, run.options);
  if (limits) {
    run.budget = deps.budgets({
      runId: record.id,
      limits,
      price: services.price,
      // Read only if the ledger is missing: the run's worker normally started it before the batch.
      journaled: async () => spentOfTotals(totalsOf(journaledSteps, await store.itemTotals(record.id))),
    });
  }

  const exec: StepExecution = { run, key: chunk.stepKey, signal, scope: run.scope() };
  const items = itemsOf(step, exec);
  const calls = itemCalls(step.step_template, run.defaults.timeout, { retry: step.retry, cache: step.cache });
  const journaled = await store.getItems(record.id, chunk.stepKey, { from: chunk.from, to: chunk.to });
  const done = new Set(journaled.filter((item) => item.status === 'succeeded').map((item) => item.index));
  // Items that failed before (an earlier flow, or this chunk's earlier delivery) run again: the row
  // that replaces theirs keeps what they paid for, as on one machine (steps/batch.ts).
  const failed = new Map(
    journaled.filter((item) => item.status === 'failed').map((item) => [item.index, earlierSpendOf(item)]),
  );
  // Its items' calls name who pays for them (steps/batch-payers.ts): an answer a delivery that died
  // before journaling its item paid for, found in the cache by this one, is the item's bill, not a
  // saving. (The cluster's budget ledger counted it when it was paid: it is not counted again.)
  run.itemPayers = new ItemPayers(run);
  run.itemPayers.open(chunk.stepKey, failed);
  // Each item's counts, added to the chunk's once the item is journaled: what the chunk reports is
  // what its journaled items did, whether this delivery or a later one reports it.
  const statsOf = new WeakMap<ItemRecord, ItemChunkResult>();
  let stats = sumChunkResults([]);
  const committer = new ItemCommitter(
    {
      commitItems: async (items) => {
        await store.commitItems(items);
        stats = sumChunkResults([stats, ...items.map((item) => statsOf.get(item) ?? sumChunkResults([]))]);
        committed?.(stats);
      },
      appendEvents: (events) => store.appendEvents(events),
    },
    () => [],
  );
  const cancel = new AbortController();
  setMaxListeners(0, cancel.signal);
  const onAbort = () => stopItems(cancel, signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  // Stopped while the run and its items were read from the journal: the event is gone, and a
  // listener added to an aborted signal is never called — the chunk's items would all run.
  if (signal.aborted) onAbort();
  let next = chunk.from;
  // The first budget refusal: it stops the chunk, and fails the batch whatever `on_item_error` says.
  let refused: BudgetExceededError | undefined;

  const worker = async () => {
    while (!cancel.signal.aborted && !cancelled()) {
      const index = next++;
      if (index >= chunk.to) return;
      if (done.has(index)) continue;
      const t0 = performance.now();
      const result = await runBatchItem(calls, exec, items[index], index, cancel.signal);
      if (result.cancelled) {
        // Stopped with its chunk after some of its calls were paid for: journaled failed with that
        // bill (`stopped: …`), as on one machine (steps/batch.ts), which the row of its next run
        // carries on. The run's worker does not count such a row as the item's own failure
        // (countItems' `stopped`): a fail-fast batch goes on, and its flow runs the item again.
        if (!paidFor(result.spent ?? NOTHING_SPENT)) return;
        // A chunk lost to another worker: that worker may have journaled the item meanwhile. Its
        // success is the item's result, which this row must not replace; its failure's bill is the
        // one this row carries on (the row read when the chunk started is older).
        const [now] = await store.getItems(record.id, chunk.stepKey, { from: index, to: index + 1 });
        if (now?.status === 'succeeded') return;
        if (now) failed.set(index, earlierSpendOf(now));
      } else if (result.error instanceof BudgetExceededError) {
        refused ??= result.error;
        stopItems(cancel, refused);
        // Journaled only when failed attempts before the refusal were paid for (their bill); else
        // left unjournaled, for a resume with a larger budget to run.
        if ((result.spent ?? NOTHING_SPENT).calls === 0) return;
      }
      const counted = sumChunkResults([]);
      const item = itemRecordOf(
        result,
        { runId: record.id, stepKey: chunk.stepKey, index, durationMs: Math.round(performance.now() - t0) },
        counted,
      );
      statsOf.set(item, counted);
      const earlier = failed.get(index);
      if (earlier) addEarlierSpend(item, earlier);
      await committer.add(item);
    }
  };
  try {
    const parallel = Math.min(step.max_parallel ?? DEFAULT_BATCH_MAX_PARALLEL, chunk.to - chunk.from);
    await runWorkers(parallel, worker, cancel);
  } finally {
    signal.removeEventListener('abort', onAbort);
    try {
      await committer.flush();
    } finally {
      // Its answers, paid for, are what a delivery of the chunk again finds in the cache (a paid hit:
      // its items' bill) — written even when the items' rows could not be: else paid twice.
      await cache.flush();
    }
    // The chunk's job completes next, and the run's worker counts the items in the journal.
    await store.publish();
  }
  if (refused) throw new UnrecoverableError(`${BUDGET_REFUSED_TAG} ${refused.message}`);
  if (signal.aborted) throw signal.reason;
  return stats;
}
