// Every step that is one model call (claude, gemini, openai, llm, gemini_structured,
// gemini_function, mock): request built from the step, the call loop (structured output with
// repairs, tool turns, streaming) over a caller that goes through cache ▸ budget ▸ gate ▸ provider.
import { parseDuration } from '../../config/duration.js';
import type { LlmStep } from '../../config/schema.js';
import { type ResolvedTools, resolveTools, runLlmCall } from '../../llm/index.js';
import type { ModelRequest } from '../../providers/provider.js';
import { confinedRoot } from '../confined-root.js';
import { CallTally, modelCallerFor } from '../model-caller-for.js';
import { type Spent, withSpent } from '../spent.js';
import type { StepExecution, StepHandler, StepOutcome } from '../step-handler.js';
import { buildModelRequest } from './llm-request.js';

export const llmHandler: StepHandler<LlmStep> = {
  types: ['claude', 'gemini', 'openai', 'llm', 'gemini_structured', 'gemini_function', 'mock'],
  execute: (step, exec) => executeLlmCall(step, exec, true),
};

type LlmCallStep = Omit<LlmStep, 'name' | 'type'> & { type: LlmStep['type'] };

/**
 * One model call as a step, a batch item or a fallback: the scope decides what templates read.
 * A promise chain, not an async function: one suspended frame fewer per call in flight.
 */
export function executeLlmCall(step: LlmCallStep, exec: StepExecution, asStep = false): Promise<StepOutcome> {
  try {
    const { run, scope } = exec;
    const request = buildModelRequest(step, run.defaults, scope, {
      mock: run.options.mock === true,
      ...(run.pipeline.providers ? { providers: run.pipeline.providers } : {}),
    });
    if (!step.tools?.length) return callModel(step, exec, request, undefined, asStep);
    return resolveTools(step.tools, run.loaded.dir, undefined, confinedRoot(run)).then((tools) =>
      callModel(step, exec, request, tools, asStep),
    );
  } catch (error) {
    return Promise.reject(error);
  }
}

function callModel(
  step: LlmCallStep,
  exec: StepExecution,
  request: ModelRequest,
  tools: ResolvedTools | undefined,
  asStep: boolean,
): Promise<StepOutcome> {
  const { run, key, signal, deadline } = exec;
  const tally = new CallTally();
  const timeoutMs = step.timeout === undefined ? undefined : parseDuration(step.timeout);
  const call = modelCallerFor(run, key, { retry: step.retry, cache: step.cache, timeoutMs, deadline, asStep }, tally);
  const stream = step.stream ?? run.defaults.stream ?? run.options.stream ?? false;
  const { bus } = run.services;

  return runLlmCall({
    request: tools ? { ...request, tools: tools.specs } : request,
    call,
    maxRepairs: step.max_repairs ?? run.defaults.max_repairs ?? 2,
    ...(tools ? { tools: tools.implementations } : {}),
    ...(step.max_turns === undefined ? {} : { maxTurns: step.max_turns }),
    stream,
    onChunk: (text) => bus.emit('pipeline.step.chunk', { runId: run.id, step: key, text }),
    signal,
  }).then(
    (result) => ({
      output: result.object !== undefined ? result.object : result.text,
      // The tally, not the loop's own sum: it knows which calls were cache hits (and cost nothing).
      usage: tally.usage,
      costUsd: tally.costUsd,
      attempts: Math.max(1, tally.attempts),
      details: {
        ...tally.details(),
        model: result.model ?? tally.model,
        ...(result.repairs ? { repairs: result.repairs } : {}),
        ...(result.turns && result.turns > 1 ? { turns: result.turns } : {}),
      },
    }),
    (error: unknown) => {
      // Calls that were answered and paid for before the failure (repairs, tool turns) still count.
      const spent: Spent = {
        usage: tally.usage,
        costUsd: tally.costUsd,
        calls: tally.calls,
        attempts: tally.attempts,
        retries: tally.retries,
        unpricedCalls: tally.unpricedCalls,
        cacheHits: tally.cacheHits,
        costSavedUsd: tally.costSavedUsd,
      };
      if (tally.recoveredFrom) spent.recoveredFrom = tally.recoveredFrom;
      exec.bill?.(spent);
      throw withSpent(error, spent);
    },
  );
}
