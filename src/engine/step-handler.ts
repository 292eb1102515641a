// A step type's behaviour. One file per step type under ./steps, registered by type in
// ./registry.ts: a new step type is one file plus its schema, not edits in five places.
import type { Step } from '../config/schema.js';
import type { Usage } from '../providers/provider.js';
import type { TemplateScope } from '../template/scope.js';
import type { RunContext } from './run-context.js';
import type { Spent } from './spent.js';

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
  /**
   * Told what an execution that failed had spent (its paid calls). The runner keeps it for a step
   * stopped from outside — the run's stop or a failing sibling — whose error is the stop's reason,
   * shared by every step it stopped, and carries no bill of its own.
   */
  bill?: (spent: Spent) => void;
}

export interface StepOutcome {
  output: unknown;
  usage: Usage;
  /**
   * What the step's priced calls cost — the known part, kept when other calls had an unknown price
   * (`details.unpriced_calls` counts those) — or null when none of its calls was priced.
   */
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

/**
 * Sum of two costs, null being a cost nobody knows (calls to a model without a price). What is known
 * is never dropped — money paid at a known price stays in the totals and in the budget of a resume —
 * so a known cost plus an unknown one is the known part: whoever keeps the sum says apart that some
 * of it is unpriced (a step's `details.unpriced_calls`). The sum is null only when nothing in it is
 * known: both unknown, or unknown plus nothing ($0), which stays unknown, never a misleading $0.
 */
export function addCost(a: number | null, b: number | null): number | null {
  if (a === null) return b === null || b === 0 ? null : b;
  if (b === null) return a === 0 ? null : a;
  return a + b;
}
