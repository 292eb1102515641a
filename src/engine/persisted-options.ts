// What a run keeps of the options it was started with, so that every resume makes the calls the run
// would have made: the mock, the budget, streaming — and the cassettes it answers from (`--replay`)
// or records to (`--record`), kept as their paths, never their contents, and opened again by the
// resume. A replayed run must stay offline: resumed without its cassette, it would call (and pay)
// the real providers, so a resume whose cassette is gone fails instead.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ElexirionError, UsageError } from '../errors.js';
import { CassettePlayer, CassetteRecorder, recordingFileOf } from '../journal/cassette.js';
import type { RunOptions } from './run-context.js';

/** The options as the journal keeps them (the run's `metadata.options`). */
export interface PersistedOptions {
  mock?: boolean;
  maxCostUsd?: number;
  maxTokens?: number;
  stream?: boolean;
  /** The absolute path of the cassette the run answers its calls from. */
  replay?: string;
  /** The absolute path of the cassette the run records its calls to. */
  record?: string;
}

/** What a resume must reuse: the choices that change what a run calls. */
export function persistedOptions(options: RunOptions): PersistedOptions {
  return {
    ...(options.mock === undefined ? {} : { mock: options.mock }),
    ...(options.maxCostUsd === undefined ? {} : { maxCostUsd: options.maxCostUsd }),
    ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens }),
    // A cluster worker runs a submitted run as a resume: this is how it learns to stream.
    ...(options.stream === undefined ? {} : { stream: options.stream }),
    ...(options.replay === undefined ? {} : { replay: resolve(options.replay.file) }),
    ...(options.record === undefined ? {} : { record: resolve(options.record.file) }),
  };
}

/**
 * The options a resume of run `runId` starts from: those it kept (`saved`, its `metadata.options`),
 * its cassettes opened again — the one it replays, whole, as when it started; the one it records,
 * to go on appending to it (the calls journaled by earlier attempts stay in it). `given`: the
 * cassettes the resume brings itself (`resume --replay FILE`), which take the place of the kept
 * ones (a kept one is then not opened). Throws a UsageError when the cassette a replayed run
 * answers from cannot be read: resumed without it, the run would call the real providers.
 */
export function restoredOptions(
  runId: string,
  saved: unknown,
  given: Pick<RunOptions, 'replay' | 'record'> = {},
): RunOptions {
  const kept = (saved ?? {}) as PersistedOptions;
  const options: RunOptions = {};
  if (typeof kept.mock === 'boolean') options.mock = kept.mock;
  if (typeof kept.maxCostUsd === 'number') options.maxCostUsd = kept.maxCostUsd;
  if (typeof kept.maxTokens === 'number') options.maxTokens = kept.maxTokens;
  if (typeof kept.stream === 'boolean') options.stream = kept.stream;
  if (typeof kept.replay === 'string' && given.replay === undefined) options.replay = reopenReplay(runId, kept.replay);
  if (typeof kept.record === 'string' && given.record === undefined) options.record = reopenRecord(runId, kept.record);
  return options;
}

function reopenReplay(runId: string, file: string): CassettePlayer {
  try {
    return new CassettePlayer(file);
  } catch (error) {
    const why = error instanceof ElexirionError ? error.message : String(error);
    throw new UsageError(
      `run ${runId} was started with --replay ${file}, and the resume cannot answer from it (${why}); resumed without it, the run would call the real providers`,
      `put the cassette back, or resume from another one: elexirion resume ${runId} --replay FILE`,
    );
  }
}

function reopenRecord(runId: string, file: string): CassetteRecorder {
  // A first attempt killed mid-way left its calls in the recording file, not yet in `file`.
  if (!existsSync(file) && !existsSync(recordingFileOf(file, runId))) {
    process.emitWarning(
      `run ${runId} records its calls to the cassette ${file}, which is gone: it is started again and holds only the calls made from this resume on`,
    );
  }
  try {
    return new CassetteRecorder(file, { append: true, runId });
  } catch (error) {
    const why = error instanceof ElexirionError ? error.message : String(error);
    throw new UsageError(
      `run ${runId} records its calls to the cassette ${file}, and the resume cannot go on recording there (${why})`,
      'make the cassette writable again (or its directory), then resume',
    );
  }
}
