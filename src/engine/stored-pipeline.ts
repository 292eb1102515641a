// The pipeline document a run was started with, as the journal keeps it (parsed and validated data,
// not the YAML text): what a cluster worker runs, and a resume whose file is gone. Its positions are
// not the file's — the text re-parsed here is one line of JSON — so diagnostics located in it name
// the file with no line and column (line 0: unknown) rather than a place in the file that holds
// something else. Where the file itself is at hand, unchanged (`pipelineOfRun`), it is used instead.
import { type LoadedPipeline, loadPipelineFromString } from '../config/loader.js';
import type { Position } from '../config/positions.js';
import { ConfigError } from '../errors.js';
import type { RunRecord } from '../journal/store.js';

/** Where a diagnostic is when no place in the file can be named (printed as the file alone). */
export const UNKNOWN_POSITION: Readonly<Position> = Object.freeze({ line: 0, col: 0 });

/** The run's stored document, named as its file (whose folder `file:` steps resolve against). */
export function storedPipeline(record: Pick<RunRecord, 'pipeline' | 'pipelineFile' | 'pipelineName'>): LoadedPipeline {
  const file = record.pipelineFile ?? `${record.pipelineName}.yaml`;
  let loaded: LoadedPipeline;
  try {
    loaded = loadPipelineFromString(JSON.stringify(record.pipeline), file);
  } catch (error) {
    // A document this version no longer accepts: its problems, without the JSON text's positions.
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(error.diagnostics.map((d) => (d.file === file ? { ...d, ...UNKNOWN_POSITION } : d)));
  }
  return { ...loaded, locate: () => ({ ...UNKNOWN_POSITION }) };
}

/**
 * The pipeline a run executes: `candidate` — the same document loaded from its file by the caller
 * (a chain's link), with the file's real positions — when it is the run's (same hash), else the
 * run's stored document.
 */
export function pipelineOfRun(
  record: Pick<RunRecord, 'pipeline' | 'pipelineFile' | 'pipelineName' | 'pipelineHash'>,
  candidate?: LoadedPipeline,
): LoadedPipeline {
  if (candidate !== undefined && candidate.hash === record.pipelineHash) return candidate;
  return storedPipeline(record);
}
