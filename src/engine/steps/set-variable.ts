// `set_variable`: renders its `variables:` and makes them visible to later steps. Its output is
// the map it set, so that a resumed run rebuilds the same variables from the journal.
import type { SetVariableStep } from '../../config/schema.js';
import { renderDeep } from '../../template/render.js';
import { NO_USAGE, type StepHandler } from '../step-handler.js';

export const setVariableHandler: StepHandler<SetVariableStep> = {
  types: ['set_variable'],
  async execute(step, { scope }) {
    // Later steps see the values once the step is committed (RunContext.publish), not before.
    const values = renderDeep(step.variables, scope) as Record<string, unknown>;
    return { output: values, usage: NO_USAGE, costUsd: 0, attempts: 1 };
  },
};
