// How a run-time error names a pipeline file: as its load-time errors do (LoadedPipeline.shownAs),
// the way the user gave it — `review.yaml`, relative to where the run was started — so that both
// kinds of error about one file read alike, and a terminal or editor opens the path as it was typed.
// The error is journaled as printed; read later from another directory, a relative name is to be
// taken from the one the run was started in. That is the price of the name the user knows, paid
// only by runs started from a typed name: a resume loads the file by the absolute path the journal
// keeps (wherever it is run from), `serve` and cluster workers load absolute paths, and a
// LoadedPipeline built by hand has no shownAs — all of these are named absolute.
import { dirname, isAbsolute, join } from 'node:path';
import type { LoadedPipeline } from '../config/loader.js';

/** The name of `loaded`'s file in messages: as given to the loader, else absolute. */
export function shownFile(loaded: LoadedPipeline): string {
  return loaded.shownAs ?? loaded.file;
}

/**
 * The shown name of the file a `pipeline` step of `parent` runs (`file:`, relative to the parent's
 * folder): beside the parent's shown name — `sub/child.yaml` for `file: child.yaml` in a run of
 * `sub/parent.yaml` — as load-time errors name a file the pipeline runs. Undefined (name it
 * absolute) for an absolute `file:` or a parent with no shown name.
 */
export function shownBeside(parent: LoadedPipeline, file: string): string | undefined {
  if (isAbsolute(file) || parent.shownAs === undefined) return undefined;
  return join(dirname(parent.shownAs), file);
}
