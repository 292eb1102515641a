// The inputs a `pipeline` step gives its child, checked against the child's declarations when the
// step runs (templated values are only known then). A value of the wrong type is the parent's
// doing: its problem is placed at the value the parent wrote (`inputs.count: "{{ … }}"` in the
// parent's file), with the child's declaration that it breaks named beside it — pointing at the
// child's file alone sent users to a file that was right.
import { missingInputHint, resolveInputs } from '../../config/inputs.js';
import type { LoadedPipeline } from '../../config/loader.js';
import { type DocPath, formatPath } from '../../config/path.js';
import { ConfigError, type Diagnostic } from '../../errors.js';
import { shownFile } from '../shown-file.js';

/**
 * resolveInputs(child, given), its problems with an input the parent gave placed in `parent` at
 * `stepPath`'s `inputs.NAME` (where the step is written; undefined leaves them in the child).
 */
export function childInputs(
  child: LoadedPipeline,
  given: Record<string, unknown>,
  parent: LoadedPipeline,
  stepPath: DocPath | undefined,
): Record<string, unknown> {
  try {
    // The child named as its other run-time errors name it (shown-file.ts).
    return resolveInputs(child, given);
  } catch (error) {
    if (!(error instanceof ConfigError) || stepPath === undefined) throw error;
    throw new ConfigError(error.diagnostics.map((d) => atParentValue(d, given, parent, stepPath)));
  }
}

function atParentValue(d: Diagnostic, given: Record<string, unknown>, parent: LoadedPipeline, stepPath: DocPath) {
  const name = d.path.startsWith('inputs.') ? d.path.slice('inputs.'.length) : undefined;
  if (name === undefined || !Object.hasOwn(given, name)) return d;
  const path = [...stepPath, 'inputs', name];
  const declaration = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
  // Given, yet missing: the parent's template rendered null — `--input` is no way to give it.
  const hint =
    d.hint === missingInputHint(name)
      ? 'its template rendered null (an empty value): make it render a value, or add `| default: …`'
      : d.hint;
  return {
    file: shownFile(parent),
    ...parent.locate(path),
    path: formatPath(parent.placedAt === undefined ? path : [...parent.placedAt, ...path]),
    message: `${d.message} (the child pipeline declares it at ${declaration})`,
    ...(hint === undefined ? {} : { hint }),
  };
}
