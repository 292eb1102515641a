// A pipeline named by path must lie inside the directory the server was allowed to read: no `..`,
// no absolute path elsewhere, no symlink leading out.
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { HttpError } from './http-error.js';

/** The absolute path of `file` (relative to `root`), or a 403 when it leaves `root`. */
export function confinePath(root: string, file: string): string {
  const rootReal = realpathSync(root);
  const target = resolve(rootReal, file);
  let real = target;
  try {
    real = realpathSync(target);
  } catch {
    // A missing file is the loader's to report ("no such file"), once we know where it would be.
  }
  const rel = relative(rootReal, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new HttpError(
      403,
      `the path ${JSON.stringify(file)} is outside the pipelines directory`,
      'give a path relative to the directory the server was started with (--root), or send the pipeline inline as `yaml`',
    );
  }
  return real;
}
