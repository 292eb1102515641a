// One item of a batch: the step_template as a model call with `item` and `index` in scope, under the
// batch's cancellation, falling back as the template says. The item's timeout (`timeout:` of the
// template, else `defaults.timeout`) bounds each call attempt; it is handed to the model caller
// rather than armed here, so an item costs no timer or AbortController of its own (a batch runs
// tens of thousands of them).
import type { Step, StepTemplate } from '../../config/schema.js';
import type { StepExecution, StepOutcome } from '../step-handler.js';
import { fallbacksOf, mergeFallback } from '../step-runner.js';
import { executeLlmCall } from './llm.js';

export interface ItemRun {
  outcome?: StepOutcome;
  error?: unknown;
  /** The batch was cancelled while the item ran: it neither succeeded nor failed. */
  cancelled: boolean;
}

/** The calls an item may make, in order: the template, then each of its fallbacks. */
export function itemCalls(template: StepTemplate, defaultTimeout: StepTemplate['timeout']): StepTemplate[] {
  const timeout = template.timeout ?? defaultTimeout;
  const first = timeout === undefined ? template : { ...template, timeout };
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
  const scope = { ...exec.scope, item, index };
  let firstError: unknown;
  for (const call of calls) {
    if (cancel.aborted) return { cancelled: true };
    try {
      const outcome = await executeLlmCall(call, { run: exec.run, key, signal: cancel, scope });
      return { outcome, cancelled: false };
    } catch (error) {
      if (cancel.aborted) return { cancelled: true };
      firstError ??= error;
    }
  }
  return { error: firstError, cancelled: false };
}
