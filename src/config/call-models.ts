// A call to a provider on an endpoint of its own (`local: { type: openai, base_url: … }`) must say
// which model: its server's model names are its own, so there is no default to take (a provider of
// the pipeline's naming on a vendor's API takes that vendor's default, engine/steps/llm-request.ts).
// Such a call without one would go out with a placeholder model — refused by an Ollama or vLLM
// server at run time, after the steps before it have run and been paid for.
import { type DocPath, formatPath } from './path.js';
import type { Problem } from './problem.js';
import { providerOfType } from './provider-of-type.js';
import { BUILTIN_PROVIDERS, type Fallback, LLM_STEP_TYPES, type Pipeline, type Step } from './schema.js';

const LLM_TYPES: ReadonlySet<string> = new Set(LLM_STEP_TYPES);

/** A model name of the kind each API takes, for the hint. */
const EXAMPLE_MODEL: Readonly<Record<string, string>> = {
  anthropic: 'claude-sonnet-4-5',
  gemini: 'gemini-2.5-flash',
  openai: 'llama3.1:8b',
};

/** The fields that decide where a call goes and with which model. */
interface Call {
  type?: string | undefined;
  provider?: string | undefined;
  model?: string | undefined;
  fallback?: Fallback | Fallback[] | undefined;
}

export function callModelProblems(pipeline: Pipeline, at: DocPath): Problem[] {
  const problems: Problem[] = [];
  const defaults = pipeline.defaults ?? {};

  const check = (call: Call, type: string, path: DocPath): void => {
    if (type === 'mock' || call.model !== undefined) return;
    const name = call.provider ?? (type === 'llm' ? defaults.provider : providerOfType(type));
    if (name === undefined || (BUILTIN_PROVIDERS as readonly string[]).includes(name)) return;
    const declared = pipeline.providers?.[name];
    // An undeclared name is reported as unknown elsewhere; a mock provider takes any model; one on a
    // vendor's API (no base_url) takes that vendor's default model.
    if (declared === undefined || declared.type === 'mock' || declared.base_url === undefined) return;
    // As llm-request.ts inherits it: defaults.model goes to every call without a defaults.provider,
    // else only to the calls to that provider.
    if (defaults.model !== undefined && (defaults.provider === undefined || defaults.provider === name)) return;
    const via = call.provider === undefined ? ` (from \`defaults.provider\`)` : '';
    const elsewhere =
      defaults.model !== undefined ? `; \`defaults.model\` goes to provider "${defaults.provider}" only` : '';
    problems.push({
      path: call.provider === undefined ? path : [...path, 'provider'],
      message: `no model for this call to provider "${name}"${via}: a provider on an endpoint of its own (base_url) has no default model`,
      hint: `add \`model:\` to the call (${formatPath(path)}): the name its server knows the model by, e.g. ${EXAMPLE_MODEL[declared.type ?? ''] ?? 'llama3.1:8b'}${elsewhere}`,
    });
  };

  /** A call and its fallbacks, each merged into it as the engine merges them (mergeFallback). */
  const checkWithFallbacks = (call: Call, type: string, path: DocPath): void => {
    if (LLM_TYPES.has(type)) check(call, type, path);
    const list = call.fallback === undefined ? [] : Array.isArray(call.fallback) ? call.fallback : [call.fallback];
    list.forEach((fallback, i) => {
      const fPath = Array.isArray(call.fallback) ? [...path, 'fallback', i] : [...path, 'fallback'];
      const otherType = fallback.type !== undefined && fallback.type !== type;
      // A fallback of a claude_code step without a type of its own is another session, no model call.
      if (!otherType && !LLM_TYPES.has(type)) return;
      const merged: Call = {
        provider: fallback.provider ?? (otherType ? undefined : call.provider),
        model: fallback.model ?? (otherType ? undefined : call.model),
      };
      check(merged, fallback.type ?? type, fPath);
    });
  };

  const visit = (step: Step, path: DocPath): void => {
    if (LLM_TYPES.has(step.type) || step.type === 'claude_code') checkWithFallbacks(step as Call, step.type, path);
    else if (step.type === 'batch' || step.type === 'claude_batch')
      checkWithFallbacks(step.step_template, step.step_template.type, [...path, 'step_template']);
    else if (step.type === 'parallel')
      step.steps.forEach((sub, i) => {
        visit(sub, [...path, 'steps', i]);
      });
    // A `pipeline` step's child has its own providers and defaults: checked as a pipeline of its own.
  };
  pipeline.steps.forEach((step, i) => {
    visit(step, [...at, 'steps', i]);
  });
  return problems;
}
