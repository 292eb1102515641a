// What a template can read. The engine builds one scope per step (and per batch item) with
// `buildScope`; the load-time checks (./check.ts) enforce the same names statically.

/** The fields of `steps.NAME`: everything a later template may read about a finished step. */
export const STEP_FIELDS = ['output', 'usage', 'cost_usd', 'status', 'error'] as const;
export type StepField = (typeof STEP_FIELDS)[number];

/** The fields of `run`. */
export const RUN_FIELDS = ['id', 'pipeline'] as const;

/** Top-level names the scope always has; an input or variable of the same name is hidden by them. */
export const BUILTIN_NAMES = ['inputs', 'variables', 'steps', 'run'] as const;
/** Top-level names only a batch `step_template` has. */
export const BATCH_ITEM_NAMES = ['item', 'index'] as const;

/** What a template sees of one finished (or skipped, or failed) step. */
export type StepView = Partial<Record<StepField, unknown>>;

export interface RunView {
  id: string;
  pipeline: string;
}

export interface TemplateScope {
  inputs: Record<string, unknown>;
  variables: Record<string, unknown>;
  steps: Record<string, StepView>;
  run: RunView;
  /** The current item of a batch, inside its `step_template` only. */
  item?: unknown;
  /** The 0-based position of `item` in the batch's items. */
  index?: number;
  /** Each input and each variable, also at top level. */
  [name: string]: unknown;
}

export interface ScopeParts {
  inputs: Record<string, unknown>;
  variables: Record<string, unknown>;
  steps: Record<string, StepView>;
  run: RunView;
  item?: unknown;
  index?: number;
  /**
   * Names that are both an input and a variable read as null only because the step that would
   * have set it did not run (a skipped `set_variable`): at top level they are the input's.
   */
  inputsOverVariables?: readonly string[];
}

// Scopes are built with Object.assign, not `{ ...a, ...b, key }`: V8 builds a spread followed by new
// keys on a slow path (1.5–4 µs, measured; a batch builds one scope per item). (A prototype-less
// target was measured too: V8 keeps such objects as dictionaries, slower to build and to read.)

/**
 * The scope of one template. Inputs and variables are also put at top level; on a clash the
 * variable wins, because a variable is the pipeline's own later decision (a `set_variable` step
 * may deliberately override an input) — the input stays readable as `inputs.NAME`. A variable
 * that no step set (its `set_variable` skipped: `inputsOverVariables`) decided nothing: the input
 * keeps its name. The built-in names (`inputs`, `variables`, `steps`, `run`, and `item`/`index`
 * in a batch) win over both.
 */
export function buildScope(parts: ScopeParts): TemplateScope {
  const scope: TemplateScope = Object.assign({}, parts.inputs, parts.variables, {
    inputs: parts.inputs,
    variables: parts.variables,
    steps: parts.steps,
    run: parts.run,
  });
  // Never a built-in name: an input named like one is refused at load time.
  if (parts.inputsOverVariables) for (const name of parts.inputsOverVariables) scope[name] = parts.inputs[name];
  // Only set when given: under strict variables, `{{ item }}` outside a batch must be an error.
  if ('item' in parts) scope.item = parts.item;
  if ('index' in parts) scope.index = parts.index;
  return scope;
}

/** A batch item's scope: its step's, with `item` and `index`. */
export function withItem(scope: TemplateScope, item: unknown, index: number): TemplateScope {
  return Object.assign({}, scope, { item, index });
}
