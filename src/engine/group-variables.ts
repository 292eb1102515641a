// When the variables set inside a `parallel` group take effect: at the group's end, in the order
// the sub-steps are declared — never as each sub-step finishes. Sub-steps run at the same time, so
// "as each finishes" would let a sibling see (or not see) another's variable depending on timing,
// let the last finisher win a variable two siblings set, and let a resume (which rebuilds the
// finished sub-steps from the journal before the group runs again) see what the first attempt did
// not. Applied at the group's end, every sub-step sees the variables as they were when the group
// started, and every later step sees one outcome whatever the timing.
import type { Pipeline, SetVariableStep, Step } from '../config/schema.js';

interface GroupLayout {
  /** Names of the steps inside any `parallel` group (at any depth). */
  nested: ReadonlySet<string>;
  /** For each top-level `parallel` group, its `set_variable` sub-steps in declaration order, depth first. */
  setters: ReadonlyMap<string, readonly SetVariableStep[]>;
}

// Many runs share one loaded pipeline: its layout is worked out once.
const layouts = new WeakMap<Pipeline, GroupLayout>();

export function groupLayout(pipeline: Pipeline): GroupLayout {
  let layout = layouts.get(pipeline);
  if (layout === undefined) {
    const nested = new Set<string>();
    const setters = new Map<string, SetVariableStep[]>();
    for (const step of pipeline.steps) {
      if (step.type !== 'parallel') continue;
      const list: SetVariableStep[] = [];
      collect(step.steps, nested, list);
      setters.set(step.name, list);
    }
    layout = { nested, setters };
    layouts.set(pipeline, layout);
  }
  return layout;
}

function collect(steps: readonly Step[], nested: Set<string>, setters: SetVariableStep[]): void {
  for (const step of steps) {
    nested.add(step.name);
    if (step.type === 'set_variable') setters.push(step);
    else if (step.type === 'parallel') collect(step.steps, nested, setters);
  }
}
