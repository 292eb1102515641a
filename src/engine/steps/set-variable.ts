// `set_variable`: renders its `variables:` and makes them visible to later steps. Its output is
// the map it set, so that a resumed run rebuilds the same variables from the journal.
import type { SetVariableStep } from '../../config/schema.js';
import { renderDeep } from '../../template/render.js';
import { renderDeepAt } from '../located-render.js';
import { docPathOf } from '../step-doc-path.js';
import { NO_USAGE, type StepHandler } from '../step-handler.js';

export const setVariableHandler: StepHandler<SetVariableStep> = {
  types: ['set_variable'],
  async execute(step, { run, scope }) {
    // A value that fails to render (a field its input lacks, a filter's bad argument) is named at
    // its place in the file, as a failing `outputs:` template is — the template text alone may be
    // written twice. A step not found in the loaded document (never, from a file) is named by text.
    const at = docPathOf(run.loaded.pipeline.steps, step);
    const values = at
      ? renderDeepAt(step.variables, scope, run.loaded, [...at, 'variables'])
      : renderDeep(step.variables, scope);
    // Later steps see the values once the step is committed (RunContext.publish), not before.
    return { output: values as Record<string, unknown>, usage: NO_USAGE, costUsd: 0, attempts: 1 };
  },
};
