// Checks a schema cannot express: names unique across a run, providers that exist, user JSON
// Schemas that compile, files that exist, settings that only make sense together.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { callModelProblems } from './call-models.js';
import { literalInputProblems } from './child-input-values.js';
import { isInsideRoot, outsideRootProblem } from './confine.js';
import { didYouMean } from './did-you-mean.js';
import {
  INPUT_TYPE_EXAMPLES,
  isUnsafeInteger,
  matchesInputType,
  UNSAFE_INTEGER_HINT,
  unsafeIntegerProblem,
} from './input-types.js';
import { type DocPath, describeValue, formatPath } from './path.js';
import {
  declaredInputs,
  type IncludeMemo,
  includeProblems,
  MAX_PIPELINE_DEPTH,
  newIncludeMemo,
} from './pipeline-includes.js';
import type { IncludeCheck, Problem } from './problem.js';
import { providerOfType } from './provider-of-type.js';
import {
  BUILTIN_PROVIDERS,
  type Fallback,
  LLM_STEP_TYPES,
  type LlmStepType,
  type Pipeline,
  type Step,
  type StepTemplate,
  type Tool,
} from './schema.js';
import { unitlessDurationProblems } from './unitless-durations.js';
import { jsonSchemaErrors } from './user-schema.js';

/** Step types that accept `fallback:`. */
const FALLBACK_TYPES: ReadonlySet<string> = new Set([...LLM_STEP_TYPES, 'claude_code']);
const LLM_TYPES: ReadonlySet<string> = new Set(LLM_STEP_TYPES);

type LlmCall = StepTemplate | Fallback | Extract<Step, { type: (typeof LLM_STEP_TYPES)[number] }>;

/** Who a call goes to: its type and `provider:` as the engine resolves them (a fallback: merged into its step's). */
interface CallTarget {
  type: string | undefined;
  provider: string | undefined;
}

export interface SemanticOptions {
  /** Every file the pipeline names (`file:` steps, tool modules) must lie inside it (`serve --root`). */
  root?: string;
  /** The pipeline's own file (absolute): a cycle of `file:` steps back to it is named from it. */
  file?: string;
  /** Validates in full the pipeline files that `file:` steps run (the loader's). */
  checkInclude?: IncludeCheck;
  /** What the load has read and walked of its included files already (one per load). */
  memo?: IncludeMemo;
}

/**
 * Every semantic problem of `pipeline`; `dir` resolves relative `file:` paths (see SemanticOptions).
 */
export function semanticProblems(
  pipeline: Pipeline,
  dir: string,
  at: DocPath = [],
  options: SemanticOptions = {},
): Problem[] {
  const { root, file, checkInclude } = options;
  const memo = options.memo ?? newIncludeMemo();
  const problems: Problem[] = [];
  checkStepNames(pipeline.steps, [...at, 'steps'], new Map(), problems);
  checkInputs(pipeline, at, problems);
  const providers = checkProviderDeclarations(pipeline, at, problems);
  if (pipeline.defaults?.provider) {
    checkProviderRef(pipeline.defaults.provider, [...at, 'defaults', 'provider'], providers, problems);
  }
  checkClaudeTemperatures(pipeline, at, problems);
  problems.push(...callModelProblems(pipeline, at));
  problems.push(...unitlessDurationProblems(pipeline, at));
  pipeline.steps.forEach((step, i) => {
    checkStep(
      step,
      [...at, 'steps', i],
      {
        pipeline,
        dir,
        providers,
        ...(root === undefined ? {} : { root }),
        ...(file === undefined ? {} : { file }),
        ...(checkInclude === undefined ? {} : { checkInclude }),
        memo,
      },
      problems,
    );
  });
  return problems;
}

interface Scope {
  pipeline: Pipeline;
  dir: string;
  providers: string[];
  /** The only directory files may be named from, when the load is confined (`serve --root`). */
  root?: string;
  /** The pipeline's own file (absolute), when known. */
  file?: string;
  /** Validates a pipeline file that a `file:` step runs (see semanticProblems). */
  checkInclude?: IncludeCheck;
  memo: IncludeMemo;
}

/** Step names live in one namespace per run: `parallel` sub-steps share it with the top level. */
function checkStepNames(steps: Step[], at: DocPath, seen: Map<string, DocPath>, problems: Problem[]): void {
  steps.forEach((step, i) => {
    const path = [...at, i];
    const first = seen.get(step.name);
    if (first) {
      problems.push({
        path: [...path, 'name'],
        message: `duplicate step name "${step.name}" (already used by ${formatPath(first)})`,
        hint: 'step names are unique within a pipeline, parallel sub-steps included: rename one of them',
      });
    } else seen.set(step.name, path);
    if (step.type === 'parallel') checkStepNames(step.steps, [...path, 'steps'], seen, problems);
  });
}

function checkInputs(pipeline: Pipeline, at: DocPath, problems: Problem[]): void {
  for (const [name, input] of Object.entries(pipeline.inputs ?? {})) {
    const path = [...at, 'inputs', name];
    const expected = `${input.type} (${INPUT_TYPE_EXAMPLES[input.type]})`;
    if (isUnsafeInteger(input.default, input.type)) {
      const value = input.default as number;
      problems.push({
        path: [...path, 'default'],
        message: `the default of input "${name}" is ${unsafeIntegerProblem(String(value), value)}`,
        hint: UNSAFE_INTEGER_HINT,
      });
    } else if (input.default !== undefined && !matchesInputType(input.default, input.type)) {
      problems.push({
        path: [...path, 'default'],
        message: `the default of input "${name}" is ${describeValue(input.default)}, but the input's type is ${expected}`,
        hint: `change the default or the type`,
      });
    }
    input.enum?.forEach((option, i) => {
      if (!matchesInputType(option, input.type)) {
        problems.push({
          path: [...path, 'enum', i],
          message: `enum value ${describeValue(option)} does not have the input's type ${input.type}`,
        });
      }
    });
    if (input.enum && input.default !== undefined && !input.enum.some((o) => sameValue(o, input.default))) {
      problems.push({
        path: [...path, 'default'],
        message: `the default of input "${name}" is not one of its enum values`,
        hint: `allowed: ${input.enum.map((o) => JSON.stringify(o)).join(', ')}`,
      });
    }
    if (input.required === true && input.default !== undefined) {
      problems.push({
        path: [...path, 'required'],
        message: `input "${name}" is required but has a default, so it can never be missing`,
        hint: 'remove `required: true` or the default',
      });
    }
  }
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Declared providers must be built-ins or say which built-in they are; returns the usable names. */
function checkProviderDeclarations(pipeline: Pipeline, at: DocPath, problems: Problem[]): string[] {
  const usable: string[] = [...BUILTIN_PROVIDERS];
  for (const [name, config] of Object.entries(pipeline.providers ?? {})) {
    const builtin = (BUILTIN_PROVIDERS as readonly string[]).includes(name);
    // A declared name counts as usable even without `type`: that mistake is reported once, here.
    if (!builtin) usable.push(name);
    if (builtin || config.type !== undefined) continue;
    const guess = didYouMean(name, BUILTIN_PROVIDERS);
    problems.push({
      path: [...at, 'providers', name],
      at: 'key',
      message: `provider "${name}" is not a built-in provider and has no \`type\``,
      hint: `${guess ? `did you mean "${guess}"? Otherwise ` : ''}add \`type:\` (one of ${BUILTIN_PROVIDERS.join(', ')}) to say which API it speaks`,
    });
  }
  return usable;
}

function checkProviderRef(name: string, path: DocPath, providers: string[], problems: Problem[]): void {
  if (providers.includes(name)) return;
  const guess = didYouMean(name, providers);
  problems.push({
    path,
    message: `unknown provider "${name}"`,
    hint: `${guess ? `did you mean "${guess}"? ` : ''}use one of ${providers.join(', ')}, or declare it under \`providers:\` with a \`type\``,
  });
}

function checkStep(step: Step, path: DocPath, scope: Scope, problems: Problem[]): void {
  const own: CallTarget = { type: step.type, provider: 'provider' in step ? step.provider : undefined };
  if (LLM_TYPES.has(step.type)) {
    checkLlmCall(step as LlmCall, step.type, path, scope, problems, { needsContent: true });
    checkVendorKeys(step as LlmCall, own, path, scope, problems);
  }
  if ('fallback' in step && step.fallback !== undefined) checkFallbacks(step.fallback, own, path, scope, problems);
  checkOnError(step, path, scope.pipeline, problems);

  switch (step.type) {
    case 'llm':
      if (!step.provider && !scope.pipeline.defaults?.provider) {
        problems.push({
          path: [...path, 'type'],
          message: 'an `llm` step needs a provider',
          hint: `add \`provider:\` (one of ${scope.providers.join(', ')}) to the step or to \`defaults:\``,
        });
      }
      break;
    case 'gemini_structured':
      if (!step.schema)
        problems.push(needs(path, 'schema', 'a gemini_structured step', 'the JSON Schema of the output'));
      break;
    case 'gemini_function':
      if (!step.tools?.length)
        problems.push(needs(path, 'tools', 'a gemini_function step', 'the tools the model may call'));
      break;
    case 'batch':
    case 'claude_batch': {
      if (typeof step.items === 'string' && !/\{\{|\{%/.test(step.items)) {
        problems.push({
          path: [...path, 'items'],
          message: `\`items\` must be a list or a template that renders to one, got the plain string ${JSON.stringify(step.items)}`,
          hint: 'write a list, or a template such as "{{ inputs.files }}"',
        });
      }
      const template = step.step_template;
      const target: CallTarget = { type: template.type, provider: template.provider };
      checkLlmCall(template, template.type, [...path, 'step_template'], scope, problems, { needsContent: true });
      checkVendorKeys(template, target, [...path, 'step_template'], scope, problems);
      if (template.fallback !== undefined)
        checkFallbacks(template.fallback, target, [...path, 'step_template'], scope, problems);
      break;
    }
    case 'parallel':
      refuseCallPolicies(step, path, 'its sub-steps', problems);
      step.steps.forEach((sub, i) => {
        checkStep(sub, [...path, 'steps', i], scope, problems);
      });
      break;
    case 'pipeline':
      refuseCallPolicies(step, path, "the child pipeline's steps (or its `defaults:`)", problems);
      checkPipelineStep(step, path, scope, problems);
      break;
    case 'claude_code':
      // Confined (`serve --root`): the program a session starts is a file the pipeline names — a
      // bare name looked up on PATH could be any program on the machine.
      if (scope.root !== undefined && step.executable !== undefined)
        checkFileExists(step.executable, [...path, 'executable'], scope, 'Claude Code executable', problems);
      break;
    default:
      break;
  }
}

/**
 * `retry:` and `cache:` are policies of model calls. A batch hands its own to its items (steps/
 * batch-item.ts); a group or a child pipeline makes no call of its own, and would silently ignore
 * them — an error instead, saying where they go.
 */
function refuseCallPolicies(step: Step, path: DocPath, where: string, problems: Problem[]): void {
  for (const key of ['retry', 'cache'] as const) {
    if (step[key] === undefined) continue;
    problems.push({
      path: [...path, key],
      message: `\`${key}\` on a ${step.type} step would apply to no call: the step makes none of its own`,
      hint: `set it on ${where}, or in \`defaults:\``,
    });
  }
}

function needs(path: DocPath, key: string, what: string, meaning: string): Problem {
  return { path: [...path, 'type'], message: `${what} needs \`${key}:\``, hint: `add \`${key}:\` with ${meaning}` };
}

function checkLlmCall(
  call: LlmCall,
  type: string | undefined,
  path: DocPath,
  scope: Scope,
  problems: Problem[],
  options: { needsContent: boolean },
): void {
  if (call.provider) checkProviderRef(call.provider, [...path, 'provider'], scope.providers, problems);
  if (options.needsContent && !call.prompt && !call.messages?.length) {
    const mockWithResponse = type === 'mock' && call.response !== undefined;
    if (!mockWithResponse) {
      problems.push({
        path,
        message: 'the call has neither `prompt:` nor `messages:`',
        hint: `add \`prompt:\`${type === 'mock' ? ' (or `response:` for a mock)' : ''}`,
      });
    }
  }
  if (call.schema !== undefined) checkJsonSchema(call.schema, [...path, 'schema'], problems);
  call.tools?.forEach((tool, i) => {
    checkTool(tool, [...path, 'tools', i], scope, problems);
  });
}

function checkFallbacks(
  fallback: Fallback | Fallback[],
  owner: CallTarget,
  path: DocPath,
  scope: Scope,
  problems: Problem[],
): void {
  const list = Array.isArray(fallback) ? fallback : [fallback];
  list.forEach((f, i) => {
    const at = Array.isArray(fallback) ? [...path, 'fallback', i] : [...path, 'fallback'];
    checkLlmCall(f, f.type, at, scope, problems, { needsContent: false });
    // As mergeFallback makes it: a fallback of another type does not keep its step's provider.
    const otherType = f.type !== undefined && f.type !== owner.type;
    checkVendorKeys(
      f,
      { type: f.type ?? owner.type, provider: f.provider ?? (otherType ? undefined : owner.provider) },
      at,
      scope,
      problems,
    );
  });
}

/**
 * Keys only one vendor takes, set on a call to another: `generation_config` is Gemini's. The engine
 * sends it to Gemini only (a fallback inherits it from a Gemini step without sending it elsewhere),
 * so set on a Claude or OpenAI call itself it would be ignored — an error here rather than silence.
 */
function checkVendorKeys(call: LlmCall, target: CallTarget, path: DocPath, scope: Scope, problems: Problem[]): void {
  if (call.generation_config === undefined) return;
  const name =
    target.type === 'mock'
      ? 'mock'
      : (target.provider ??
        (target.type === 'llm' || target.type === undefined
          ? scope.pipeline.defaults?.provider
          : providerOfType(target.type)));
  if (name === undefined) return;
  const declared = scope.pipeline.providers?.[name]?.type;
  const type = declared ?? ((BUILTIN_PROVIDERS as readonly string[]).includes(name) ? name : undefined);
  // Gemini's own; the mock ignores it; an unknown provider is reported on its own.
  if (type === undefined || type === 'gemini' || type === 'mock') return;
  problems.push({
    path: [...path, 'generation_config'],
    at: 'key',
    message: `\`generation_config\` is Gemini's, but this call goes to ${name === type ? `provider "${name}"` : `provider "${name}" (type ${type})`}, which does not take it`,
    hint: "remove it, and use the call's own keys (max_tokens, temperature, top_p, stop), which every provider takes",
  });
}

function checkTool(tool: Tool, path: DocPath, scope: Scope, problems: Problem[]): void {
  if (typeof tool === 'string') return;
  if (tool.parameters !== undefined) checkJsonSchema(tool.parameters, [...path, 'parameters'], problems);
  if (tool.module !== undefined) checkFileExists(tool.module, [...path, 'module'], scope, 'tool module', problems);
}

function checkJsonSchema(schema: unknown, path: DocPath, problems: Problem[]): void {
  for (const error of jsonSchemaErrors(schema)) {
    problems.push({
      path: [...path, ...error.path],
      message: `not a valid JSON Schema: ${error.message}`,
      hint: error.hint ?? 'see https://json-schema.org/understanding-json-schema (draft 2020-12)',
    });
  }
}

function checkOnError(step: Step, path: DocPath, pipeline: Pipeline, problems: Problem[]): void {
  const explicit = step.on_error;
  const effective = explicit ?? pipeline.defaults?.on_error;
  if (effective !== 'fallback') return;
  if (!FALLBACK_TYPES.has(step.type)) {
    if (explicit === 'fallback') {
      problems.push({
        path: [...path, 'on_error'],
        message: `a ${step.type} step has no fallback, so \`on_error: fallback\` cannot apply`,
        hint: 'use `on_error: fail` or `on_error: continue`',
      });
    }
    return;
  }
  if ('fallback' in step && step.fallback !== undefined) return;
  problems.push({
    path: explicit ? [...path, 'on_error'] : path,
    message: `\`on_error\` is "fallback"${explicit ? '' : ' (from defaults)'} but the step has no \`fallback:\``,
    hint: 'add `fallback:` (another provider/model, or a whole call) or use `on_error: continue`',
  });
}

function checkPipelineStep(
  step: Extract<Step, { type: 'pipeline' }>,
  path: DocPath,
  scope: Scope,
  problems: Problem[],
): void {
  const hasFile = step.file !== undefined;
  const hasInline = step.pipeline !== undefined;
  if (hasFile === hasInline) {
    problems.push({
      path: [...path, hasFile ? 'pipeline' : 'type'],
      message: hasFile
        ? 'a pipeline step takes `file:` or `pipeline:`, not both'
        : 'a pipeline step needs `file:` (a pipeline file) or `pipeline:` (an inline pipeline)',
      hint: 'keep exactly one of them',
    });
  }
  // The level this step's child runs at: one below each inline pipeline around it.
  const level = 1 + path.filter((key) => key === 'pipeline').length;
  if (level > MAX_PIPELINE_DEPTH) {
    problems.push({
      path: [...path, 'type'],
      message: `pipelines nest more than ${MAX_PIPELINE_DEPTH} deep`,
      hint: 'flatten the nesting of inline pipelines',
    });
    return;
  }
  if (step.file !== undefined) {
    const before = problems.length;
    checkFileExists(step.file, [...path, 'file'], scope, 'pipeline file', problems);
    if (problems.length === before) {
      const file = resolve(scope.dir, step.file);
      const { dir, root, memo } = scope;
      const included = includeProblems(file, [...path, 'file'], level, { dir, root, includer: scope.file, memo });
      problems.push(...included);
      // The file itself, validated as its step will load it (no cycle, no nesting too deep: its
      // own includes are followed in turn): an invalid child is an error now, in its own
      // file:line:col, not a failure after the steps before it have run and been paid for. Once
      // per load, however many steps run it: the loader's checkInclude keeps what it found.
      const childDiagnostics = included.length === 0 && scope.checkInclude ? scope.checkInclude(file) : [];
      if (childDiagnostics.length > 0) {
        const count = childDiagnostics.length;
        problems.push({
          path: [...path, 'file'],
          message: `the pipeline file "${step.file}" this step runs is invalid (${count} problem${count === 1 ? '' : 's'}, reported at ${count === 1 ? 'its place' : 'their places'} in that file)`,
          hint: `fix ${step.file}: as it is, this step would fail when it runs, after the steps before it`,
        });
        for (const d of childDiagnostics) problems.push({ path: [...path, 'file'], message: d.message, elsewhere: d });
      }
      const inputs = included.length === 0 ? declaredInputs(file, scope.memo) : undefined;
      if (inputs) checkChildInputs({ inputs }, step.inputs ?? {}, path, problems, `pipeline file "${step.file}"`);
    }
  }
  if (step.pipeline !== undefined) {
    // An inline pipeline is a pipeline of its own: its own names, inputs and providers.
    const { root, file, checkInclude, memo } = scope;
    problems.push(
      ...semanticProblems(step.pipeline, scope.dir, [...path, 'pipeline'], { root, file, checkInclude, memo }),
    );
    checkChildInputs(step.pipeline, step.inputs ?? {}, path, problems);
  }
}

function checkChildInputs(
  child: Pick<Pipeline, 'inputs'>,
  given: Record<string, unknown>,
  path: DocPath,
  problems: Problem[],
  what = 'the inline pipeline',
): void {
  problems.push(...literalInputProblems(child.inputs ?? {}, given, path, what));
  const declared = Object.keys(child.inputs ?? {});
  for (const name of Object.keys(given)) {
    if (declared.includes(name)) continue;
    const guess = didYouMean(name, declared);
    problems.push({
      path: [...path, 'inputs', name],
      at: 'key',
      message: `${what} declares no input "${name}"`,
      hint: guess ? `did you mean "${guess}"?` : `its inputs are: ${declared.join(', ') || '(none)'}`,
    });
  }
  for (const [name, input] of Object.entries(child.inputs ?? {})) {
    if (input.required === true && input.default === undefined && !Object.hasOwn(given, name)) {
      problems.push({
        path: [...path, 'inputs'],
        message: `${what} requires input "${name}", which is not given`,
        hint: `add \`${name}:\` under this step's \`inputs:\``,
      });
    }
  }
}

/**
 * The Messages API takes a temperature from 0 to 1 (it refuses 1.5 with a 400); the format's 0–2 is
 * OpenAI's and Gemini's range. Every call's provider and temperature are known at load time (its
 * own, a fallback's inherited from its step, or `defaults.temperature`), so a Claude call out of
 * range is an error here, at its place — not a 400 at run time, after the steps before it have run
 * and been paid for. Nothing is clamped: the pipeline says what it means.
 */
const CLAUDE_MAX_TEMPERATURE = 1;

/** What a call inherits its temperature from, and where that is written. */
interface TemperatureSource {
  value: number;
  path: DocPath;
  /** How the diagnostic names it: undefined when it is the call's own `temperature:`. */
  from?: string;
}

function checkClaudeTemperatures(pipeline: Pipeline, at: DocPath, problems: Problem[]): void {
  const defaults = pipeline.defaults?.temperature;
  const fromDefaults: TemperatureSource | undefined =
    defaults === undefined
      ? undefined
      : { value: defaults, path: [...at, 'defaults', 'temperature'], from: '`defaults.temperature`' };
  const visit = (step: Step, path: DocPath): void => {
    if (LLM_TYPES.has(step.type)) {
      const call = step as LlmCall & { type: LlmStepType };
      checkCall(call, call.type, path, fromDefaults);
      forEachFallback(step as { fallback?: Fallback | Fallback[] }, path, (f, fPath) => {
        checkCall(
          mergedCall(call, call.type, f),
          f.type ?? call.type,
          fPath,
          inheritedTemperature(call, path, fromDefaults),
        );
      });
    } else if (step.type === 'claude_code') {
      // A fallback of another type is a whole model call of its own (no temperature to inherit).
      forEachFallback(step, path, (f, fPath) => {
        if (f.type !== undefined) checkCall(f, f.type, fPath, fromDefaults);
      });
    } else if (step.type === 'batch' || step.type === 'claude_batch') {
      const template = step.step_template;
      const tPath = [...path, 'step_template'];
      checkCall(template, template.type, tPath, fromDefaults);
      forEachFallback(template, tPath, (f, fPath) => {
        checkCall(
          mergedCall(template, template.type, f),
          f.type ?? template.type,
          fPath,
          inheritedTemperature(template, tPath, fromDefaults),
        );
      });
    } else if (step.type === 'parallel') {
      step.steps.forEach((sub, i) => {
        visit(sub, [...path, 'steps', i]);
      });
    }
    // A `pipeline` step's child is a pipeline of its own, with its own defaults and providers:
    // semanticProblems checks an inline one, the loader of its file a `file:` one.
  };
  const checkCall = (
    call: { provider?: string | undefined; temperature?: number | undefined },
    type: LlmStepType,
    path: DocPath,
    inherited: TemperatureSource | undefined,
  ): void => {
    const provider = anthropicProvider(pipeline, call.provider, type);
    if (provider === undefined) return;
    const own = call.temperature;
    const source: TemperatureSource | undefined =
      own !== undefined ? { value: own, path: [...path, 'temperature'] } : inherited;
    if (!source || source.value <= CLAUDE_MAX_TEMPERATURE) return;
    const claude = provider === 'anthropic' ? 'Claude' : `Claude (provider "${provider}")`;
    if (source.from === undefined) {
      problems.push({
        path: source.path,
        message: `temperature ${source.value} is out of range for ${claude}: the Messages API accepts 0 to 1 (0–2 is OpenAI's and Gemini's range)`,
        hint: `use a temperature from 0 to 1 for a Claude call`,
      });
      return;
    }
    problems.push({
      path: call.provider === undefined ? path : [...path, 'provider'],
      message: `this call goes to ${claude} with temperature ${source.value}, from ${source.from} (${formatPath(source.path)}), but the Messages API accepts 0 to 1`,
      hint: 'give this call a `temperature:` of its own, from 0 to 1',
    });
  };
  pipeline.steps.forEach((step, i) => {
    visit(step, [...at, 'steps', i]);
  });

  function inheritedTemperature(
    call: { temperature?: number | undefined },
    path: DocPath,
    fallbackSource: TemperatureSource | undefined,
  ): TemperatureSource | undefined {
    if (call.temperature === undefined) return fallbackSource;
    return { value: call.temperature, path: [...path, 'temperature'], from: "the step's `temperature`" };
  }
}

/** Each fallback of `owner` with its path (`fallback` or `fallback[i]`). */
function forEachFallback(
  owner: { fallback?: Fallback | Fallback[] | undefined },
  path: DocPath,
  visit: (fallback: Fallback, path: DocPath) => void,
): void {
  const fallback = owner.fallback;
  if (fallback === undefined) return;
  if (!Array.isArray(fallback)) visit(fallback, [...path, 'fallback']);
  else
    fallback.forEach((f, i) => {
      visit(f, [...path, 'fallback', i]);
    });
}

/**
 * A fallback as the engine runs it (step-runner.ts, mergeFallback): the step's fields under its
 * own — except the provider, which a fallback of another type does not inherit. Its temperature is
 * left to the caller (it says where an inherited one comes from).
 */
function mergedCall(
  call: { provider?: string | undefined },
  type: LlmStepType,
  fallback: Fallback,
): { provider?: string; temperature?: number } {
  const otherType = fallback.type !== undefined && fallback.type !== type;
  const provider = fallback.provider ?? (otherType ? undefined : call.provider);
  return {
    ...(provider === undefined ? {} : { provider }),
    ...(fallback.temperature === undefined ? {} : { temperature: fallback.temperature }),
  };
}

/**
 * The provider a call of `type` naming `provider` goes to (its own, its type's, else
 * `defaults.provider`), when that is the Messages API's: `anthropic`, or a name declared with
 * `type: anthropic`. Undefined for any other, and when it cannot be told (an unknown provider, an
 * `llm` call without one: reported elsewhere).
 */
function anthropicProvider(pipeline: Pipeline, provider: string | undefined, type: LlmStepType): string | undefined {
  if (type === 'mock') return undefined;
  const name = provider ?? (type === 'llm' ? pipeline.defaults?.provider : providerOfType(type));
  if (name === undefined) return undefined;
  const declared = pipeline.providers?.[name]?.type;
  const anthropic = declared !== undefined ? declared === 'anthropic' : name === 'anthropic';
  return anthropic ? name : undefined;
}

function checkFileExists(file: string, path: DocPath, scope: Scope, what: string, problems: Problem[]): void {
  const absolute = resolve(scope.dir, file);
  // Before looking at it: whether a file exists outside the root is none of the pipeline's business.
  if (scope.root !== undefined && !isInsideRoot(scope.root, absolute)) {
    problems.push({ path, ...outsideRootProblem(`${what} "${file}"`) });
    return;
  }
  if (existsSync(absolute) && statSync(absolute).isFile()) return;
  problems.push({
    path,
    message: `${what} "${file}" does not exist (looked for ${absolute})`,
    hint: 'paths are relative to the file that names them',
  });
}
