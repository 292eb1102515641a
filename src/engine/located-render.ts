// Rendering a pipeline's own `outputs:` at the end of its run. Their templates were checked at load
// time, but what they read is only known now (a structured answer without an optional field): one
// that fails is reported at its place in the pipeline file, file:line:col, as a load-time problem
// or a child's input is — not only by its text, which may be written twice in the file. The same for
// `variables:` (the pipeline's and a nested pipeline's), which read values only known at run time;
// a step's own templates are placed once they fail (step-template-place.ts). The file is named as
// its load-time errors name it (shown-file.ts).
import type { LoadedPipeline } from '../config/loader.js';
import { type DocPath, formatPath } from '../config/path.js';
import { ElexirionError, ExitCode, formatDiagnostic } from '../errors.js';
import { renderDeep } from '../template/render.js';
import type { TemplateScope } from '../template/scope.js';
import { TemplateError } from '../template/template-error.js';
import { shownFile } from './shown-file.js';

/** A template of the pipeline that failed at run time, its message led by file:line:col. */
export class LocatedTemplateError extends ElexirionError {
  constructor(error: TemplateError, loaded: LoadedPipeline, path: DocPath) {
    const { line, col } = loaded.locate(path, error.offset === undefined ? {} : { offset: error.offset });
    // The path in the file: an inline child's own paths put after its place in its parent's.
    const inFile = loaded.placedAt === undefined ? path : [...loaded.placedAt, ...path];
    const diagnostic = { file: shownFile(loaded), line, col, path: formatPath(inFile), message: error.message };
    super(formatDiagnostic(error.hint === undefined ? diagnostic : { ...diagnostic, hint: error.hint }), {
      exitCode: ExitCode.runFailed,
      cause: error,
    });
  }
}

/** renderDeep of `loaded`'s value at `path`, a failing template thrown as a LocatedTemplateError. */
export function renderDeepAt(value: unknown, scope: TemplateScope, loaded: LoadedPipeline, path: DocPath): unknown {
  return renderDeep(value, scope, (error, at) => {
    throw error instanceof TemplateError ? new LocatedTemplateError(error, loaded, [...path, ...at]) : error;
  });
}
