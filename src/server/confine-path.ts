// A pipeline named by path must lie inside the directory the server was allowed to read: no `..`,
// no absolute path elsewhere, no symlink leading out. (The paths a pipeline names itself — `file:`
// steps, tool modules — are checked by the loader, given the same root.)
import { resolve } from 'node:path';
import { isInsideRoot, realLocation } from '../config/confine.js';
import { HttpError } from './http-error.js';

/** The real path of `file` (relative to `root`), or a 403 when it leaves `root`. */
export function confinePath(root: string, file: string): string {
  const target = resolve(realLocation(root), file);
  if (!isInsideRoot(root, target)) {
    throw new HttpError(
      403,
      `the path ${JSON.stringify(file)} is outside the pipelines directory`,
      'give a path relative to the directory the server was started with (--root), or send the pipeline inline as `yaml`',
    );
  }
  // A missing file is the loader's to report ("no such file"), once we know where it would be.
  return realLocation(target);
}
