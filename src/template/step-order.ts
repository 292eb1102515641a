// When each step of a pipeline runs relative to the others, as far as templates care: a template
// may read a step that has finished before its own step starts, and nothing else. Top-level steps
// run in order; the sub-steps of a `parallel` group run at the same time as each other, and all
// of them have finished when the group has.
import type { Pipeline, Step } from '../config/schema.js';

/** Where a step sits: its top-level position and the `parallel` groups around it (outermost first). */
export interface StepPlace {
  name: string;
  /** Position of the top-level step this one is (or is inside of). */
  order: number;
  /** Names of the enclosing `parallel` groups, outermost first; empty for a top-level step. */
  groups: string[];
  /**
   * A `pipeline` step's output keys when known at load time (its child's declared `outputs:`): its
   * output is exactly that map, so `steps.NAME.output.KEY` for any other KEY is always undefined.
   */
  outputs?: readonly string[];
}

/** The declared output keys of the pipeline in a file a `pipeline` step names (undefined: unknown). */
export type OutputsOfFile = (file: string) => readonly string[] | undefined;

/** A template's own position: in a step, in the root `variables:`, or in `outputs:`. */
export type ReaderPlace =
  | { kind: 'step'; place: StepPlace; inBatchTemplate: boolean }
  | { kind: 'root-variables' }
  | { kind: 'outputs' };

export type Visibility =
  | { readable: true }
  | { readable: false; why: 'self' | 'later' | 'concurrent' | 'enclosing' | 'inside' | 'before-steps' };

export interface StepOrder {
  /** Every step of the pipeline by name, sub-steps of `parallel` groups included. */
  places: Map<string, StepPlace>;
  /** For each variable a `set_variable` step sets, the steps that set it. */
  setters: Map<string, StepPlace[]>;
}

/**
 * Calls `visit` for each well-formed step of a `steps:` list, with its index. The checks may run
 * on a pipeline the schema has also found faults in (to report every error at once), so a
 * malformed entry is skipped here: the schema reports it.
 */
export function forEachStep(steps: unknown, visit: (step: Step, index: number) => void): void {
  if (!Array.isArray(steps)) return;
  steps.forEach((step: unknown, index) => {
    if (typeof step === 'object' && step !== null && typeof (step as { name?: unknown }).name === 'string') {
      visit(step as Step, index);
    }
  });
}

/** Walks the steps of `pipeline` (not those of inline child pipelines: they have their own order). */
export function stepOrder(pipeline: Pipeline, outputsOfFile?: OutputsOfFile): StepOrder {
  const order: StepOrder = { places: new Map(), setters: new Map() };
  const visit = (step: Step, place: StepPlace): void => {
    // The first of two steps with the same name wins; duplicate names are the loader's error.
    if (!order.places.has(step.name)) {
      const outputs = step.type === 'pipeline' ? childOutputs(step, outputsOfFile) : undefined;
      order.places.set(step.name, outputs === undefined ? place : { ...place, outputs });
    }
    if (step.type === 'set_variable') {
      for (const variable of Object.keys(isRecord(step.variables) ? step.variables : {})) {
        const setters = order.setters.get(variable) ?? [];
        setters.push(place);
        order.setters.set(variable, setters);
      }
    }
    if (step.type === 'parallel') {
      forEachStep(step.steps, (sub) => {
        visit(sub, { name: sub.name, order: place.order, groups: [...place.groups, step.name] });
      });
    }
  };
  forEachStep(pipeline.steps, (step, index) => {
    visit(step, { name: step.name, order: index, groups: [] });
  });
  return order;
}

function childOutputs(step: Step & { type: 'pipeline' }, outputsOfFile?: OutputsOfFile): readonly string[] | undefined {
  if (isRecord(step.pipeline)) {
    const { outputs } = step.pipeline as { outputs?: unknown };
    return outputs === undefined || outputs === null ? [] : isRecord(outputs) ? Object.keys(outputs) : undefined;
  }
  return typeof step.file === 'string' ? outputsOfFile?.(step.file) : undefined;
}

/** Whether a template at `reader` may read the step at `target`. */
export function visibility(reader: ReaderPlace, target: StepPlace): Visibility {
  if (reader.kind === 'outputs') return { readable: true };
  if (reader.kind === 'root-variables') return { readable: false, why: 'before-steps' };
  const self = reader.place;
  if (target.name === self.name) return { readable: false, why: 'self' };
  if (self.groups.includes(target.name)) return { readable: false, why: 'enclosing' };
  if (target.order < self.order) return { readable: true };
  if (target.order > self.order) return { readable: false, why: 'later' };
  // Same top-level position: either the target is inside the reader (a group reading its own
  // sub-step), or both are inside the same top-level group and run concurrently.
  if (target.groups.includes(self.name)) return { readable: false, why: 'inside' };
  return { readable: false, why: 'concurrent' };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
