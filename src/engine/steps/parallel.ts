// `parallel`: runs its sub-steps at the same time (at most `max_parallel` at once), each through
// runStep — journaled on its own, under its own name, and skipped on resume once finished. Output:
// a map by sub-step name. A sub-step that fails (and whose `on_error` does not say `continue`)
// cancels its siblings through their AbortSignals and fails the group; the cancelled siblings are
// not journaled, so a resume runs them again.
import { setMaxListeners } from 'node:events';
import type { ParallelStep } from '../../config/schema.js';
import { ElexirionError } from '../../errors.js';
import { innerStop, StepFailedError } from '../errors.js';
import { runOrReuse } from '../run-or-reuse.js';
import type { StepExecution, StepHandler, StepOutcome } from '../step-handler.js';
import { NO_USAGE } from '../step-handler.js';
import { runWorkers } from './worker-pool.js';

export const parallelHandler: StepHandler<ParallelStep> = {
  types: ['parallel'],
  execute: (step, exec) => executeParallel(step, exec),
};

/** Why a sub-step was cancelled: a sibling failed. */
export class SiblingFailedError extends ElexirionError {
  constructor(group: string, sibling: string) {
    super(`cancelled: "${sibling}" failed in parallel group "${group}"`);
  }
}

async function executeParallel(step: ParallelStep, exec: StepExecution): Promise<StepOutcome> {
  const { run } = exec;
  const group = new AbortController();
  setMaxListeners(0, group.signal); // one listener per running sub-step, by design
  const onStepAbort = () => group.abort(innerStop(exec.signal.reason));
  exec.signal.addEventListener('abort', onStepAbort, { once: true });
  // By sub-step, as each finishes; the output lists them in declared order (below), never in the
  // order they finished — a template printing the map would otherwise change with the timing, and
  // with it the prompts after it, their cache keys and a replayed run's cassette lookups.
  const finished = new Map<string, unknown>();
  const status = { succeeded: 0, failed: 0, skipped: 0 };
  let failure: unknown;
  let next = 0;

  const worker = async (): Promise<void> => {
    while (!group.signal.aborted) {
      const index = next++;
      const sub = step.steps[index];
      if (sub === undefined) return;
      try {
        const record = await runOrReuse(sub, run, index, group.signal);
        finished.set(sub.name, record.output ?? null);
        status[record.status]++;
      } catch (error) {
        // A sibling's failure or the run's stop cancelled this one: not a failure of its own.
        if (!(error instanceof StepFailedError)) {
          if (group.signal.aborted) return;
          throw error;
        }
        failure ??= error;
        group.abort(new SiblingFailedError(step.name, sub.name));
      }
    }
  };

  try {
    const width = Math.min(step.max_parallel ?? step.steps.length, step.steps.length);
    await runWorkers(width, worker, group);
  } finally {
    exec.signal.removeEventListener('abort', onStepAbort);
  }
  if (failure !== undefined) throw failure;
  if (exec.signal.aborted) throw exec.signal.reason;
  const output: Record<string, unknown> = {};
  for (const sub of step.steps) if (finished.has(sub.name)) output[sub.name] = finished.get(sub.name);
  // The sub-steps carry their own usage and cost in the journal; counting them here too would double them.
  return { output, usage: NO_USAGE, costUsd: 0, attempts: 1, details: { steps: step.steps.length, ...status } };
}
