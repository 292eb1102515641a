// Executes one attempt of a run, from the journal: steps already finished are not executed again —
// their journaled results are published to the context as if they had just run.
import { BudgetGuard } from '../budget/budget-guard.js';
import { budgetLimits, spentOfTotals } from '../budget/run-budget.js';
import type { ItemTotals, RunStatus, RunTotals, StepRecord } from '../journal/store.js';
import { emptyTotals } from '../journal/store.js';
import { renderDeep } from '../template/render.js';
import { messageOf, RunInterruptedError, StepFailedError } from './errors.js';
import type { RunContext } from './run-context.js';
import { isFinished, runOrReuse } from './run-or-reuse.js';

export interface RunOutcome {
  status: RunStatus;
  outputs?: Record<string, unknown>;
  error?: string;
  failedStep?: string;
}

export { isFinished } from './run-or-reuse.js';

/**
 * Runs the run's remaining steps. Returns the run's outcome (succeeded, failed, interrupted);
 * throws only on a crash — an error that is no step's failure — which the supervisor handles.
 */
export async function executeRun(run: RunContext, journaled: StepRecord[]): Promise<RunOutcome> {
  const { pipeline } = run;
  const { bus } = run.services;

  for (const record of journaled) {
    if (isFinished(record)) run.publish(record);
    else run.remember(record);
  }

  const limits = budgetLimits(pipeline.budget, run.options);
  if (limits) {
    // Everything journaled was paid for, finished or not (a failed step's repairs, a killed batch's items).
    const spent = spentOfTotals(totalsOf(journaled, await run.services.store.itemTotals(run.id)));
    const { price, budgets } = run.services;
    run.budget = budgets
      ? budgets({ runId: run.id, limits, price, journaled: spent })
      : new BudgetGuard(limits, price, spent);
  }

  bus.emit('pipeline.execution.start', {
    runId: run.id,
    pipeline: pipeline.name,
    resumed: journaled.length > 0,
    steps: pipeline.steps.length,
  });

  try {
    try {
      if (pipeline.variables) run.variables = renderDeep(pipeline.variables, run.scope()) as Record<string, unknown>;
    } catch (error) {
      // A template of the pipeline's own variables: the run's failure, not a crash to restart.
      return { status: 'failed', error: `variables: ${messageOf(error)}` };
    }
    // Journaled set_variable steps (and groups, which apply their sub-steps') override the
    // pipeline's variables again (publish keeps that order).
    for (const record of journaled) if (isFinished(record) && SETS_VARIABLES.has(record.type)) run.publish(record);
    for (const [index, step] of pipeline.steps.entries()) await runOrReuse(step, run, index);
    const outputs = pipeline.outputs ? (renderDeep(pipeline.outputs, run.scope()) as Record<string, unknown>) : {};
    return { status: 'succeeded', outputs };
  } catch (error) {
    if (error instanceof RunInterruptedError) return { status: error.status, error: error.message };
    if (error instanceof StepFailedError) return { status: 'failed', error: error.message, failedStep: error.step };
    if (run.signal.aborted) {
      const reason = run.signal.reason;
      const status = reason instanceof RunInterruptedError ? reason.status : 'interrupted';
      return { status, error: reason instanceof Error ? reason.message : 'the run was interrupted' };
    }
    // Rendering the outputs is the run's last act; its failure is the run's, not a crash.
    if (error instanceof Error && error.name === 'TemplateError')
      return { status: 'failed', error: `outputs: ${error.message}` };
    throw error;
  }
}

const BATCH_TYPES: ReadonlySet<string> = new Set(['batch', 'claude_batch']);
const SETS_VARIABLES: ReadonlySet<string> = new Set(['set_variable', 'parallel']);

/**
 * The run's totals, derived from the journal alone (so a killed run's spending is never lost): the
 * steps, and the items of every batch — a batch that failed or was killed has no step row to carry
 * what its finished items cost, and a batch that succeeded is counted by its items, not twice.
 * The items' calls are not journaled: a batch's row counts those of the items its last attempt ran
 * (`items_run`); every other journaled item — an earlier attempt's, a killed batch's — counts as
 * the one call it made at least.
 */
export function totalsOf(records: Iterable<StepRecord>, items: readonly ItemTotals[] = []): RunTotals {
  const totals = emptyTotals();
  const uncounted = new Map(items.map((i) => [i.stepKey, i.items]));
  for (const r of records) {
    const d = r.details ?? {};
    const batch = BATCH_TYPES.has(r.type) && uncounted.has(r.key);
    // A batch that succeeded spent what its items did; a failed one's row has only what its
    // cancelled items (never journaled) spent.
    if (!(batch && r.status === 'succeeded')) {
      totals.inputTokens += r.usage.inputTokens;
      totals.outputTokens += r.usage.outputTokens;
      if (r.costUsd === null) totals.unpricedCalls++;
      else totals.costUsd += r.costUsd;
    }
    if (batch) uncounted.set(r.key, Math.max(0, (uncounted.get(r.key) ?? 0) - itemsRun(r)));
    totals.calls += Number(d.calls ?? 0);
    totals.cacheHits += Number(d.cache_hits ?? 0);
    totals.costSavedUsd += Number(d.cost_saved_usd ?? 0);
    totals.retries += Number(d.retries ?? 0);
  }
  for (const i of items) {
    totals.inputTokens += i.inputTokens;
    totals.outputTokens += i.outputTokens;
    totals.costUsd += i.costUsd;
    totals.unpricedCalls += i.unpricedItems;
  }
  for (const n of uncounted.values()) totals.calls += n;
  return totals;
}

/** The journaled items whose calls a batch's row counts. */
function itemsRun(r: StepRecord): number {
  const d = r.details ?? {};
  if (d.items_run !== undefined) return Number(d.items_run);
  // A row written before `items_run` existed: a batch that succeeded ran all the others.
  return r.status === 'succeeded' ? Number(d.items ?? 0) - Number(d.from_journal ?? 0) : 0;
}
