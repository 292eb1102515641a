// Executes one attempt of a run, from the journal: steps already finished are not executed again —
// their journaled results are published to the context as if they had just run.
import { BudgetGuard } from '../budget/budget-guard.js';
import { budgetLimits, spentOfTotals } from '../budget/run-budget.js';
import type { RunStatus, StepRecord } from '../journal/store.js';
import { messageOf, RunInterruptedError, StepFailedError } from './errors.js';
import { LocatedTemplateError, renderDeepAt } from './located-render.js';
import type { RunContext } from './run-context.js';
import { isFinished, runOrReuse } from './run-or-reuse.js';
import { totalsOf } from './run-result.js';

export interface RunOutcome {
  status: RunStatus;
  outputs?: Record<string, unknown>;
  error?: string;
  failedStep?: string;
}

export { isFinished } from './run-or-reuse.js';
// The totals are derived in run-result.ts (with the rest of a run's public shape); re-exported for
// the code that has always found them here.
export { totalsOf } from './run-result.js';

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
      // A failing template is named at its place in the file (file:line:col, `at variables.NAME`).
      if (pipeline.variables) {
        const variables = renderDeepAt(pipeline.variables, run.scope(), run.loaded, ['variables']);
        run.variables = variables as Record<string, unknown>;
      }
    } catch (error) {
      // A template of the pipeline's own variables: the run's failure, not a crash to restart.
      if (error instanceof LocatedTemplateError) return { status: 'failed', error: error.message };
      return { status: 'failed', error: `variables: ${messageOf(error)}` };
    }
    // Journaled set_variable steps (and groups, which apply their sub-steps') override the
    // pipeline's variables again (publish keeps that order).
    for (const record of journaled) if (isFinished(record) && SETS_VARIABLES.has(record.type)) run.publish(record);
    for (const [index, step] of pipeline.steps.entries()) await runOrReuse(step, run, index);
    const outputs = pipeline.outputs
      ? (renderDeepAt(pipeline.outputs, run.scope(), run.loaded, ['outputs']) as Record<string, unknown>)
      : {};
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
    if (error instanceof LocatedTemplateError) return { status: 'failed', error: error.message };
    throw error;
  }
}

const SETS_VARIABLES: ReadonlySet<string> = new Set(['set_variable', 'parallel']);
