// Checked when a run starts, before anything is spent: a pipeline with claude_code steps needs the
// Claude Agent SDK installed and, where a step names one, an executable that exists.
import type { LoadedPipeline } from '../../config/loader.js';
import type { ClaudeCodeStep, Pipeline, Step } from '../../config/schema.js';
import { resolveClaudeExecutable } from './executable.js';
import { loadClaudeAgentSdk, type SdkImporter } from './load-sdk.js';

/** The claude_code steps of a pipeline, nested ones (parallel groups, inline pipelines) included. */
export function claudeCodeSteps(pipeline: Pipeline): ClaudeCodeStep[] {
  const found: ClaudeCodeStep[] = [];
  const visit = (step: Step) => {
    if (step.type === 'claude_code') found.push(step);
    else if (step.type === 'parallel') step.steps.forEach(visit);
    else if (step.type === 'pipeline' && step.pipeline) step.pipeline.steps.forEach(visit);
  };
  pipeline.steps.forEach(visit);
  return found;
}

/**
 * Throws ClaudeAgentSdkMissingError or a missing-executable error (both exit code 2) when the
 * pipeline has claude_code steps that could not run. A pipeline without any costs nothing: the SDK
 * is not even imported.
 */
export async function assertClaudeCodeReady(
  loaded: LoadedPipeline,
  env: Record<string, string | undefined> = process.env,
  importer?: SdkImporter,
): Promise<void> {
  const steps = claudeCodeSteps(loaded.pipeline);
  if (steps.length === 0) return;
  await loadClaudeAgentSdk(importer);
  for (const step of steps) resolveClaudeExecutable(step.executable, env, loaded.dir);
}
