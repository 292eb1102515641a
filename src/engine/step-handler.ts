// A step type's behaviour. One file per step type under ./steps, registered by type in
// ./registry.ts: a new step type is one file plus its schema, not edits in five places.
import type { Step } from '../config/schema.js';
import type { Usage } from '../providers/provider.js';
import type { TemplateScope } from '../template/scope.js';
import type { RunContext } from './run-context.js';

export interface StepExecution {
  run: RunContext;
  /** The step's key in the journal (its name; nested steps get a path). */
  key: string;
  /** Fires on the step's timeout and when the run is interrupted or cancelled. */
  signal: AbortSignal;
  /**
   * When `signal` fires on the step's timeout (performance.now() ms), if the step has a finite one.
   * A call attempt whose own timeout would end no earlier needs no timer of its own.
   */
  deadline?: number;
  /** What the step's templates can read. */
  scope: TemplateScope;
}

export interface StepOutcome {
  output: unknown;
  usage: Usage;
  /** null when a call of the step had an unknown price. */
  costUsd: number | null;
  attempts: number;
  /** Kept in the journal with the step (provider, model, retries, cache hits, …). */
  details?: Record<string, unknown>;
}

export interface StepHandler<S extends Step = Step> {
  readonly types: readonly S['type'][];
  execute(step: S, exec: StepExecution): Promise<StepOutcome>;
}

export const NO_USAGE: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0 }) as Usage;

export { addUsage } from '../providers/usage.js';

/** Sum of costs where one unknown cost makes the sum unknown: never report a partial sum as the price. */
export function addCost(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a + b;
}
