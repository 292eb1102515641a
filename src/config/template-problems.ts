// Load-time template checks (src/template/check.ts) turned into problems the loader can locate: a
// template that reads an unknown or later step, or an undeclared name, is an error at its line.
import { resolve } from 'node:path';
import { checkTemplates } from '../template/check.js';
import { isInsideRoot } from './confine.js';
import type { DocPath } from './path.js';
import { declaredOutputs, type IncludeMemo } from './pipeline-includes.js';
import type { Problem } from './problem.js';
import type { Pipeline } from './schema.js';

/**
 * `scope.dir` (the pipeline's folder) lets the output keys a `file:` step's pipeline declares be
 * read, so that a misspelt `steps.NAME.output.KEY` is an error now, not after the steps before it
 * have run; never a file outside `scope.root` (the semantic checks refuse those).
 */
export function templateProblems(
  pipeline: Pipeline,
  scope: { dir?: string; root?: string | undefined; memo?: IncludeMemo } = {},
): Problem[] {
  const { dir, root, memo } = scope;
  const outputsOfFile =
    dir === undefined
      ? undefined
      : (file: string) => {
          const absolute = resolve(dir, file);
          return root !== undefined && !isInsideRoot(root, absolute) ? undefined : declaredOutputs(absolute, memo);
        };
  return checkTemplates(pipeline, outputsOfFile).map((issue) => ({
    path: issue.path as DocPath,
    message: issue.message,
    ...(issue.hint === undefined ? {} : { hint: issue.hint }),
    ...(issue.offset === undefined ? {} : { offset: issue.offset }),
    ...(issue.at === undefined ? {} : { at: issue.at }),
  }));
}
