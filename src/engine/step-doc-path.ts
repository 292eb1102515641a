// Where a step is written in its pipeline's document, as a key path (`steps[1]`,
// `steps[0].steps[2]` inside a `parallel` group): what a run-time error about one of the step's
// values needs to name its file:line:col. Found by identity in the loaded pipeline, since a step
// knows its name and key but not its place.
import type { DocPath } from '../config/path.js';
import type { Step } from '../config/schema.js';

/** Where `step` is written among `steps` (`parallel` groups searched too), as a document path. */
export function docPathOf(steps: readonly Step[], step: Step, at: DocPath = ['steps']): DocPath | undefined {
  for (const [i, candidate] of steps.entries()) {
    if (candidate === step) return [...at, i];
    if (candidate.type === 'parallel') {
      const found = docPathOf(candidate.steps, step, [...at, i, 'steps']);
      if (found) return found;
    }
  }
  return undefined;
}
