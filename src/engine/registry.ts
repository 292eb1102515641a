// Step handlers by type. Adding a step type: one file in ./steps, one line here.
import { ElexirionError, ExitCode } from '../errors.js';
import type { StepHandler } from './step-handler.js';
import { batchHandler } from './steps/batch.js';
import { claudeCodeHandler } from './steps/claude-code.js';
import { llmHandler } from './steps/llm.js';
import { parallelHandler } from './steps/parallel.js';
import { pipelineHandler } from './steps/pipeline.js';
import { setVariableHandler } from './steps/set-variable.js';

const handlers = new Map<string, StepHandler>();

export function registerStepHandler(handler: StepHandler<never>): void {
  for (const type of handler.types) handlers.set(type, handler as unknown as StepHandler);
}

export function handlerFor(type: string): StepHandler {
  const handler = handlers.get(type);
  if (!handler) {
    throw new ElexirionError(`step type "${type}" cannot be executed by this version of Elexirion`, {
      exitCode: ExitCode.invalidInput,
      hint: `executable step types: ${[...handlers.keys()].join(', ')}`,
    });
  }
  return handler;
}

export function executableStepTypes(): string[] {
  return [...handlers.keys()];
}

registerStepHandler(llmHandler as StepHandler<never>);
registerStepHandler(setVariableHandler as StepHandler<never>);
registerStepHandler(claudeCodeHandler as StepHandler<never>);
registerStepHandler(batchHandler as StepHandler<never>);
registerStepHandler(parallelHandler as StepHandler<never>);
registerStepHandler(pipelineHandler as StepHandler<never>);
