// `pipeline`: runs another pipeline (`file:`, relative to this one, or inline `pipeline:`) as a step.
// Its inputs are rendered in this step's scope and checked against the child's declarations; its
// steps run in a child context with a scope of their own, journaled under THIS run with keys
// `${stepKey}/${childStep}` — so resuming the parent skips the child steps that finished. The
// child's rendered `outputs` are this step's output.
import { resolve } from 'node:path';
import { type LoadedPipeline, loadPipeline } from '../../config/loader.js';
import type { DocPath } from '../../config/path.js';
import { MAX_PIPELINE_DEPTH } from '../../config/pipeline-includes.js';
import type { PipelineStep } from '../../config/schema.js';
import { ConfigError, ElexirionError, ExitCode } from '../../errors.js';
import { renderDeep } from '../../template/render.js';
import { confinedRoot } from '../confined-root.js';
import { renderDeepAt } from '../located-render.js';
import type { RunContext } from '../run-context.js';
import { isFinished, runOrReuse } from '../run-or-reuse.js';
import { shownBeside } from '../shown-file.js';
import { docPathOf } from '../step-doc-path.js';
import type { StepExecution, StepHandler, StepOutcome } from '../step-handler.js';
import { NO_USAGE } from '../step-handler.js';
import { childInputs } from './child-inputs.js';

export const pipelineHandler: StepHandler<PipelineStep> = {
  types: ['pipeline'],
  execute: (step, exec) => executePipelineStep(step, exec),
};

async function executePipelineStep(step: PipelineStep, exec: StepExecution): Promise<StepOutcome> {
  const { run, key } = exec;
  if (run.depth + 1 > MAX_PIPELINE_DEPTH) {
    throw new ElexirionError(
      `pipeline step "${key}": pipelines nest more than ${MAX_PIPELINE_DEPTH} deep (does a pipeline include itself?)`,
      { exitCode: ExitCode.invalidInput, hint: 'flatten the nesting, or break the cycle of `file:` references' },
    );
  }
  // Where this step is written in its pipeline's document (`parallel` groups searched too).
  const at = docPathOf(run.loaded.pipeline.steps, step);
  const loaded = await childPipeline(step, run, at);
  const given = step.inputs ? (renderDeep(step.inputs, exec.scope) as Record<string, unknown>) : {};
  // A value of the wrong type is placed where this step writes it, the child's declaration beside it.
  const inputs = childInputs(loaded, given, run.loaded, at);
  const child = run.child({ loaded, inputs, keyPrefix: `${key}/`, signal: exec.signal });
  try {
    const output = await executeChild(child, run);
    return {
      output,
      // The child's steps carry their usage and cost in the journal; the run's totals add them up.
      usage: NO_USAGE,
      costUsd: 0,
      attempts: 1,
      details: {
        pipeline: loaded.pipeline.name,
        ...(step.file === undefined ? {} : { file: loaded.file }),
        steps: loaded.pipeline.steps.length,
      },
    };
  } finally {
    child.dispose();
  }
}

async function childPipeline(step: PipelineStep, run: RunContext, at: DocPath | undefined): Promise<LoadedPipeline> {
  if (step.file !== undefined) {
    const root = confinedRoot(run);
    // Errors name it beside the parent as shown (`sub/child.yaml`), else absolute — not as `file:`
    // is written, relative to the parent's folder: its run-time errors, and those of a load that
    // fails now (the file changed or went away since the run's start, which checked it).
    const shown = shownBeside(run.loaded, step.file) ?? resolve(run.loaded.dir, step.file);
    try {
      const loaded = await loadPipeline(step.file, { cwd: run.loaded.dir, ...(root === undefined ? {} : { root }) });
      return { ...loaded, shownAs: shown };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new ConfigError(error.diagnostics.map((d) => (d.file === step.file ? { ...d, file: shown } : d)));
    }
  }
  if (step.pipeline === undefined) {
    throw new ElexirionError(`pipeline step "${step.name}" has neither \`file:\` nor \`pipeline:\``, {
      exitCode: ExitCode.invalidInput,
    });
  }
  // An inline child was validated with its parent; it lives in the parent's file and folder, and
  // its positions are those of the parent's document below the step's `pipeline:`.
  const { locate } = run.loaded;
  if (at === undefined) return { ...run.loaded, pipeline: step.pipeline };
  return {
    ...run.loaded,
    pipeline: step.pipeline,
    placedAt: [...(run.loaded.placedAt ?? []), ...at, 'pipeline'],
    locate: (path, options) => locate([...at, 'pipeline', ...path], options),
  };
}

/** The child's steps in order (finished ones from the journal), then its outputs. */
async function executeChild(child: RunContext, parent: RunContext): Promise<Record<string, unknown>> {
  const { pipeline } = child;
  // A failing template is named at its place in the child's file, as its outputs' are below.
  if (pipeline.variables) {
    const variables = renderDeepAt(pipeline.variables, child.scope(), child.loaded, ['variables']);
    child.variables = variables as Record<string, unknown>;
  }
  for (const record of parent.records.values()) {
    if (!record.key.startsWith(child.keyPrefix)) continue;
    if (isFinished(record)) child.publish(record);
    else child.remember(record);
  }
  for (const [index, step] of pipeline.steps.entries()) await runOrReuse(step, child, index);
  if (!pipeline.outputs) return {};
  // A failing template is named at its place in the child's file (or in this one, for an inline child).
  return renderDeepAt(pipeline.outputs, child.scope(), child.loaded, ['outputs']) as Record<string, unknown>;
}
