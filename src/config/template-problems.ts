// Load-time template checks (src/template/check.ts) turned into problems the loader can locate: a
// template that reads an unknown or later step, or an undeclared name, is an error at its line.
import { checkTemplates } from '../template/check.js';
import type { DocPath } from './path.js';
import type { Problem } from './problem.js';
import type { Pipeline } from './schema.js';

export function templateProblems(pipeline: Pipeline): Problem[] {
  return checkTemplates(pipeline).map((issue) => ({
    path: issue.path as DocPath,
    message: issue.message,
    ...(issue.hint === undefined ? {} : { hint: issue.hint }),
    ...(issue.offset === undefined ? {} : { offset: issue.offset }),
    ...(issue.at === undefined ? {} : { at: issue.at }),
  }));
}
