// Confinement to a directory (`serve --root`): a path is inside only where it really leads — no
// `..` segment, no absolute path elsewhere, no symlink (of the file or of a folder on the way) out.
import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ElexirionError, ExitCode } from '../errors.js';

/**
 * Where `path` really leads: symlinks followed. A missing file keeps its name under its nearest
 * existing folder's real path, so `linkdir/missing.yaml` is still seen to leave through `linkdir`.
 */
export function realLocation(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(realLocation(parent), basename(path));
  }
}

/** Whether `path` (absolute, or relative to `root`) lies strictly inside `root`, symlinks followed. */
export function isInsideRoot(root: string, path: string): boolean {
  const rootReal = realLocation(resolve(root));
  const rel = relative(rootReal, realLocation(resolve(rootReal, path)));
  // `..greeting.yaml` is a name inside the root: only a whole `..` segment leaves it.
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith('../') && !isAbsolute(rel);
}

/** The problem of a file (`what`: which, how named) that leaves the root, for load-time diagnostics. */
export function outsideRootProblem(what: string): { message: string; hint: string } {
  return {
    message: `${what} is outside the pipelines directory`,
    hint: 'a pipeline run by `elexirion serve` may only name files inside its --root directory: move the file there',
  };
}

/** The same, as the error of a run that meets such a file when it runs (exit: invalid input). */
export function outsideRootError(what: string): ElexirionError {
  const { message, hint } = outsideRootProblem(what);
  return new ElexirionError(message, { exitCode: ExitCode.invalidInput, hint });
}
