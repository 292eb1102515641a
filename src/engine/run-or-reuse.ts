// Shared by the steps made of steps (parallel, pipeline): a sub-step that an earlier attempt of the
// run finished is taken from the journal — announced, not executed — and anything else runs
// through runStep, so that every sub-step is journaled on its own under its own key.
import type { Step } from '../../config/schema.js';
import type { StepRecord } from '../../journal/store.js';
import type { RunContext } from '../run-context.js';
import { isFinished } from '../run-executor.js';
import { runStep } from '../step-runner.js';

export async function runOrReuse(
  step: Step,
  run: RunContext,
  index: number,
  cancel?: AbortSignal,
): Promise<StepRecord> {
  const key = run.keyFor(step.name);
  const done = run.records.get(key);
  if (done && isFinished(done)) {
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
  return (await runStep(step, run, key, index, cancel)).record;
}
