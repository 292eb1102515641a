// Which provider a step calls, and the check that every provider a pipeline will call has its key
// before the run starts (a missing key is an error at the door, not a 401 halfway through).

import { dirname, resolve } from 'node:path';
import { includedPipeline, MAX_PIPELINE_DEPTH } from '../config/pipeline-includes.js';
import { PROVIDER_OF_TYPE, providerOfType } from '../config/provider-of-type.js';
import type { Fallback, LlmStepType, Pipeline, ProviderConfig, Step } from '../config/schema.js';
import { ElexirionError, ExitCode } from '../errors.js';
import { andList, type Env, MissingKeyError, missingKeyError, resolveProviderSettings } from './settings.js';

/** The model used when neither the step nor `defaults.model` names one. */
export const DEFAULT_MODELS: Readonly<Record<'anthropic' | 'gemini' | 'openai', string>> = {
  anthropic: 'claude-sonnet-4-5',
  gemini: 'gemini-2.5-flash',
  openai: 'gpt-4.1-mini',
};

/**
 * The provider name a call uses: its own `provider:`, else the one its type implies
 * (claude → anthropic, gemini* → gemini, openai → openai, mock → mock), else (type `llm`)
 * `defaults.provider`.
 */
export function providerNameFor(call: { type: LlmStepType; provider?: string }, defaultProvider?: string): string {
  if (call.type === 'mock') return 'mock';
  if (call.provider) return call.provider;
  if (call.type !== 'llm') return PROVIDER_OF_TYPE[call.type];
  if (defaultProvider) return defaultProvider;
  throw new ElexirionError('an `llm` step needs a provider', {
    exitCode: ExitCode.invalidInput,
    hint: 'set `provider:` on the step or `defaults.provider` in the pipeline',
  });
}

export interface ProviderKeyProblem {
  provider: string;
  /** Where the provider is used, e.g. `steps[2].fallback[0]`. */
  path: string;
  message: string;
  hint?: string;
  /** A key that is simply not set: the variables that would hold it (the first is the usual one). */
  keyVariables?: readonly string[];
}

/**
 * Every provider the pipeline may call whose key is missing from `env` (empty: all good). `dir`
 * (the pipeline file's directory) lets the pipelines its `file:` steps run be checked too.
 */
export function checkProviderKeys(pipeline: Pipeline, env: Env = process.env, dir?: string): ProviderKeyProblem[] {
  const problems: ProviderKeyProblem[] = [];
  const seen = new Set<string>();
  for (const { provider, path, providers } of providerUses(pipeline, 'steps', dir, 0, new Map())) {
    if (seen.has(provider)) continue;
    seen.add(provider);
    try {
      const settings = resolveProviderSettings(provider, providers[provider], env);
      if (settings.type !== 'mock' && !settings.apiKey && !settings.keyOptional) {
        const err = missingKeyError(settings);
        problems.push({
          provider,
          path,
          message: err.message,
          ...(err.hint ? { hint: err.hint } : {}),
          ...(settings.keyVariables.length > 0 ? { keyVariables: settings.keyVariables } : {}),
        });
      }
    } catch (err) {
      if (!(err instanceof ElexirionError)) throw err;
      problems.push({ provider, path, message: err.message, ...(err.hint ? { hint: err.hint } : {}) });
    }
  }
  return problems;
}

/**
 * Throws the missing-key problems as one ElexirionError (exit code: invalid input; a MissingKeyError,
 * whose hint can be worded for an HTTP caller, when a key is not set), naming every
 * provider and the variable to set for each, so that one try finds them all.
 */
export function assertProviderKeys(pipeline: Pipeline, env: Env = process.env, dir?: string): void {
  const problems = checkProviderKeys(pipeline, env, dir);
  if (problems.length === 0) return;
  const unset = problems.filter((p) => p.keyVariables !== undefined);
  const others = problems.filter((p) => p.keyVariables === undefined);
  const parts: string[] = [];
  const hints: string[] = [];
  if (unset.length > 0) {
    // Two providers of one vendor may read one variable: named once.
    const variables = [...new Set(unset.map((p) => (p.keyVariables as readonly string[])[0] as string))];
    parts.push(
      `${unset.length === 1 ? 'provider' : 'providers'} ${andList(unset.map((p) => `"${p.provider}"`))} ${unset.length === 1 ? 'has' : 'have'} no API key: ${andList(variables)} ${variables.length === 1 ? 'is' : 'are'} not set`,
    );
  }
  for (const p of others) {
    parts.push(p.message);
    if (p.hint && !hints.includes(p.hint)) hints.push(p.hint);
  }
  // Keys not set: their hint is worded for whoever reads it (the shell, an HTTP caller).
  if (unset.length > 0) {
    throw new MissingKeyError(
      parts.join('; '),
      unset.map((p) => p.keyVariables as readonly string[]),
      hints,
    );
  }
  throw new ElexirionError(parts.join('; '), {
    exitCode: ExitCode.invalidInput,
    ...(hints.length ? { hint: hints.join('; ') } : {}),
  });
}

interface ProviderUse {
  provider: string;
  path: string;
  providers: Record<string, ProviderConfig>;
}

function* providerUses(
  pipeline: Pipeline,
  prefix: string,
  dir: string | undefined,
  depth: number,
  /**
   * Files walked already, and at what depth: a file's calls are the same whoever runs it, and a file
   * run by several steps of files run by several steps would be walked (steps per file)^(depth) times.
   * Walked again only from nearer the top (the depth limit may have cut the first walk short).
   */
  walked: Map<string, number>,
): Generator<ProviderUse> {
  const providers = pipeline.providers ?? {};
  const defaultProvider = pipeline.defaults?.provider;
  const use = (call: { type: LlmStepType; provider?: string }, path: string): ProviderUse => ({
    provider: providerNameFor(call, defaultProvider),
    path,
    providers,
  });
  function* visit(step: Step, path: string): Generator<ProviderUse> {
    let owner: FallbackOwner | undefined;
    if (isLlmStep(step)) {
      owner = step;
      yield use(step, path);
    } else if (step.type === 'batch' || step.type === 'claude_batch') {
      owner = step.step_template;
      yield use(step.step_template, `${path}.step_template`);
      yield* fallbacks(step.step_template.fallback, owner, `${path}.step_template`);
    } else if (step.type === 'parallel') {
      for (const [i, sub] of step.steps.entries()) yield* visit(sub, `${path}.steps[${i}]`);
    } else if (step.type === 'pipeline' && step.pipeline) {
      yield* providerUses(step.pipeline, `${path}.pipeline.steps`, dir, depth + 1, walked);
    } else if (step.type === 'pipeline' && step.file !== undefined && dir !== undefined && depth < MAX_PIPELINE_DEPTH) {
      // A file the load has checked (no cycle, within the depth limit); one it cannot read is its own load's to report.
      const file = resolve(dir, step.file);
      const before = walked.get(file);
      const child = before !== undefined && before <= depth ? undefined : includedPipeline(file);
      walked.set(file, Math.min(before ?? depth, depth));
      if (child) yield* providerUses(child, `${path}.file(${step.file}).steps`, dirname(file), depth + 1, walked);
    }
    if ('fallback' in step) yield* fallbacks(step.fallback, owner, path);
  }
  // The call a fallback makes is its step's with the fallback's fields over it (mergeFallback in
  // step-runner.ts): of the same type, it keeps the step's provider unless it names its own.
  function* fallbacks(
    fallback: Fallback | Fallback[] | undefined,
    owner: FallbackOwner | undefined,
    path: string,
  ): Generator<ProviderUse> {
    const list = fallback === undefined ? [] : Array.isArray(fallback) ? fallback : [fallback];
    for (const [i, fb] of list.entries()) {
      const type = fb.type ?? owner?.type;
      if (!type) continue;
      const sameType = fb.type === undefined || fb.type === owner?.type;
      const provider = fb.provider ?? (sameType ? owner?.provider : undefined);
      yield use({ type, ...(provider === undefined ? {} : { provider }) }, `${path}.fallback[${i}]`);
    }
  }
  for (const [i, step] of pipeline.steps.entries()) yield* visit(step, `${prefix}[${i}]`);
}

/** The call whose fallbacks are checked: its type and provider are what they inherit. */
interface FallbackOwner {
  type: LlmStepType;
  provider?: string;
}

function isLlmStep(step: Step): step is Extract<Step, { type: LlmStepType }> {
  return providerOfType(step.type) !== undefined || step.type === 'llm';
}
