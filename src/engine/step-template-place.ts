// A step's template that fails at run time — its prompt, system, a message's content, its `when`, a
// batch's `items` or step_template (per item), a pipeline step's `inputs`, claude_code's prompt or
// cwd, a mock's response — named at its place in the pipeline file: file:line:col, the key path
// (`at steps[2].prompt`) and the template's hint, as a failing `outputs:` or `variables:` template
// is (located-render.ts). The template text alone may be written in several steps.
//
// Steps render on the hot path, once per step and per batch item: the handlers render as before,
// and only a TemplateError caught from them is placed — the step found in the loaded document
// (docPathOf), the value in the step by the template's text (text-path.ts). Success pays nothing.
// A template renders before any call of its step is made: the error carries no bill to keep.
import type { LoadedPipeline } from '../config/loader.js';
import type { DocPath } from '../config/path.js';
import type { BatchStep, Step } from '../config/schema.js';
import { TemplateError } from '../template/template-error.js';
import { LocatedTemplateError } from './located-render.js';
import { docPathOf } from './step-doc-path.js';
import { pathOfText } from './text-path.js';

/**
 * Keys of a step not searched for the failing template: other steps (a group's `steps`, an inline
 * `pipeline`, a batch's `step_template` — theirs are placed where they run), `fallback` (searched
 * apart, for the fallback that failed) and `when` (placed before the step runs: placedWhenError).
 */
const NOT_RENDERED_BY_HANDLER: ReadonlySet<string> = new Set([
  'steps',
  'pipeline',
  'step_template',
  'fallback',
  'when',
]);
const notRenderedByHandler = (key: string): boolean => NOT_RENDERED_BY_HANDLER.has(key);

/**
 * `error`, thrown by `step`'s handler (or by its fallback number `fallback`), as a LocatedTemplateError
 * when it is a TemplateError of one of the step's values; any other error is returned as it is, and
 * so is one of a step not found in `loaded` (a pipeline built by hand).
 */
export function placedStepError(error: unknown, loaded: LoadedPipeline, step: Step, fallback?: number): unknown {
  if (!(error instanceof TemplateError)) return error;
  const at = docPathOf(loaded.pipeline.steps, step);
  const field = at === undefined ? undefined : fieldOf(step, error.source, fallback);
  return at && field ? new LocatedTemplateError(error, loaded, [...at, ...field]) : error;
}

/** `error` of `step`'s `when:` as a LocatedTemplateError (`at steps[N].when`), when it is a TemplateError. */
export function placedWhenError(error: unknown, loaded: LoadedPipeline, step: Step): unknown {
  if (!(error instanceof TemplateError)) return error;
  const at = docPathOf(loaded.pipeline.steps, step);
  return at ? new LocatedTemplateError(error, loaded, [...at, 'when']) : error;
}

/**
 * The error of a batch item as a LocatedTemplateError under the batch's `step_template`, when it is a
 * TemplateError. An item's error is its first call's, which is the step_template's own: a fallback
 * is only tried after it.
 */
export function placedItemError(error: unknown, loaded: LoadedPipeline, batch: BatchStep): unknown {
  if (!(error instanceof TemplateError)) return error;
  const at = docPathOf(loaded.pipeline.steps, batch);
  const field = at === undefined ? undefined : fieldOf(batch.step_template, error.source);
  return at && field ? new LocatedTemplateError(error, loaded, [...at, 'step_template', ...field]) : error;
}

/** Where in `owner` (a step, a step_template) the template `source` is, for its call or `fallback`. */
function fieldOf(owner: object, source: string, fallback?: number): DocPath | undefined {
  if (fallback === undefined) return pathOfText(owner, source, notRenderedByHandler);
  const fallbacks = (owner as { fallback?: unknown }).fallback;
  const own = Array.isArray(fallbacks) ? fallbacks[fallback] : fallbacks;
  const inOwn = pathOfText(own, source);
  if (inOwn) return Array.isArray(fallbacks) ? ['fallback', fallback, ...inOwn] : ['fallback', ...inOwn];
  // A fallback is its step with its own keys replaced (mergeFallback): the rest is the step's.
  const replaced = (key: string): boolean => typeof own === 'object' && own !== null && key in own;
  return pathOfText(owner, source, (key) => notRenderedByHandler(key) || replaced(key));
}
