// One item of a batch: the step_template as a model call with `item` and `index` in scope, under
// the item's own timeout and the batch's cancellation, falling back as the template says.
import { parseDuration } from '../../config/duration.js';
import type { Step, StepTemplate } from '../../config/schema.js';
import { StepTimeoutError } from '../errors.js';
import type { StepExecution, StepOutcome } from '../step-handler.js';
import { DEFAULT_STEP_TIMEOUT_MS, fallbacksOf, mergeFallback } from '../step-runner.js';
import { executeLlmCall } from './llm.js';

export interface ItemRun {
  outcome?: StepOutcome;
  error?: unknown;
  /** The batch was cancelled while the item ran: it neither succeeded nor failed. */
  cancelled: boolean;
}

/** Runs item `index`; never throws — the result says how it ended. */
export async function runBatchItem(
  template: StepTemplate,
  exec: StepExecution,
  item: unknown,
  index: number,
  cancel: AbortSignal,
): Promise<ItemRun> {
  const key = `${exec.key}[${index}]`;
  const scope = { ...exec.scope, item, index };
  const timeoutMs = parseDuration(template.timeout ?? exec.run.defaults.timeout ?? DEFAULT_STEP_TIMEOUT_MS);
  const calls = [template, ...fallbacksOf(template as unknown as Step).map((f) => mergeFallback(template as never, f))];
  let firstError: unknown;
  for (const call of calls) {
    if (cancel.aborted) return { cancelled: true };
    const controller = new AbortController();
    const onCancel = () => controller.abort(cancel.reason);
    cancel.addEventListener('abort', onCancel, { once: true });
    const timer = setTimeout(() => controller.abort(new StepTimeoutError(key, timeoutMs)), timeoutMs);
    try {
      const outcome = await executeLlmCall(call as StepTemplate, {
        run: exec.run,
        key,
        signal: controller.signal,
        scope,
      });
      return { outcome, cancelled: false };
    } catch (error) {
      if (cancel.aborted) return { cancelled: true };
      firstError ??= error;
    } finally {
      clearTimeout(timer);
      cancel.removeEventListener('abort', onCancel);
    }
  }
  return { error: firstError, cancelled: false };
}
