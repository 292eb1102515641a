// A step that an earlier attempt of the run finished is taken from the journal — announced, not
// executed — and anything else runs through runStep, so that every step (a pipeline's, a parallel
// group's, a child pipeline's) is journaled on its own under its own key. Used by the run itself
// and by the steps made of steps.
import type { Step } from '../config/schema.js';
import type { StepRecord } from '../journal/store.js';
import type { RunContext } from './run-context.js';
import { runStep, type StepRunResult, settleSubSteps } from './step-runner.js';

/** Whether a journaled step counts as finished (a failure that `on_error: continue` absorbed does). */
export function isFinished(record: StepRecord): boolean {
  return record.status !== 'failed' || record.details?.continued === true;
}

// Not an async function: the usual path hands runStep's promise on (one suspended frame fewer per
// step in flight); the reuse of a journaled step is `reuse`'s.
export function runOrReuse(step: Step, run: RunContext, index: number, cancel?: AbortSignal): Promise<StepRecord> {
  const key = run.keyFor(step.name);
  const done = run.records.get(key);
  if (done && isFinished(done)) return reuse(step, run, done);
  return runStep(step, run, key, index, cancel).then(recordOf);
}

const recordOf = (result: StepRunResult): StepRecord => result.record;

async function reuse(step: Step, run: RunContext, done: StepRecord): Promise<StepRecord> {
  // A group skipped, or failed and continued: its sub-steps that did not run are still steps.
  if (done.status !== 'succeeded') await settleSubSteps(step, run, done);
  run.services.bus.emit('pipeline.step.stop', {
    runId: run.id,
    step: done.key,
    type: done.type,
    status: done.status,
    durationMs: done.durationMs,
    usage: done.usage,
    costUsd: done.costUsd,
    attempts: done.attempts,
    fromJournal: true,
    ...(done.error === undefined ? {} : { error: done.error }),
  });
  return done;
}
