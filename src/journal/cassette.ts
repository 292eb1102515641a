// Cassettes: every provider call of a run written to a portable JSONL file (`--record FILE`), and
// answered from it offline (`--replay FILE`) — a pipeline recorded once with real keys replays in
// CI, byte for byte, without a network. One JSON object per line, so a run killed mid-way
// leaves a valid recording of the calls it finished (beside the cassette it would have replaced,
// which stays whole). Requests never contain API keys.

import {
  accessSync,
  appendFileSync,
  constants,
  existsSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { ElexirionError, UsageError } from '../errors.js';
import { fsProblem } from '../fs-problem.js';
import type { ModelRequest, ModelResponse } from '../providers/provider.js';
import { missReason } from './cassette-miss.js';

export const CASSETTE_VERSION = 1;

export interface CassetteEntry {
  v: typeof CASSETTE_VERSION;
  key: string;
  step: string;
  provider: string;
  model: string;
  request: ModelRequest;
  response: ModelResponse;
  costUsd: number | null;
}

export class CassetteMissError extends ElexirionError {
  readonly key: string;
  /** `why`: what differs from the calls the cassette holds for the step (missReason). */
  constructor(file: string, entry: { step: string; provider: string; model: string; key: string }, why?: string) {
    super(
      `replay: the cassette ${file} holds no answer for step "${entry.step}" (${entry.provider}/${entry.model}, call ${entry.key.slice(0, 16)}…)${why ? `: ${why}` : ''}`,
      {
        hint: 'the prompt, model or parameters changed since the recording: record the cassette again with --record',
      },
    );
    this.key = entry.key;
  }
}

/**
 * Where a fresh recording to `file` is written until its run ends: beside it, so that the rename
 * over `file` stays on one file system. A run killed mid-way leaves it (and `file` as it was). Named
 * by the run (`FILE.RUN_ID.recording`): a resume goes on with its own run's recording, never with one
 * another run killed later left beside the same cassette. Without a run (a recorder used outside an
 * engine, before it starts): `FILE.recording`.
 */
export function recordingFileOf(file: string, runId?: string): string {
  return runId === undefined ? `${file}.recording` : `${file}.${runId}.recording`;
}

/**
 * Writes the calls of a run. A fresh recording goes to `recordingFileOf(file)`, started afresh when
 * the run starts (or by its first call; a killed recording's file left there is emptied then) and
 * renamed over `file` by `close()`, which the engine calls when the run ends: until then a cassette
 * recorded earlier stays whole — a run refused, killed before its first call, or killed mid-way
 * does not cost it. With `append` (a resumed run going on recording to the cassette it started),
 * the calls already recorded are kept and not written twice: those of a killed attempt, in the
 * recording file it left (renamed over `file` when this run ends), else those in `file` itself.
 */
export class CassetteRecorder {
  private readonly written = new Set<string>();
  /** Where the calls go: the recording file, or `file` itself once closed (or appended to). */
  private target: string;
  /** Whether `target` is this recorder's yet: until then it is not touched. */
  private started = false;

  constructor(
    readonly file: string,
    /** `append` with the `runId` whose recording a resume goes on with (recordingFileOf). */
    options: { append?: boolean; runId?: string } = {},
  ) {
    const recording = recordingFileOf(file, options.runId);
    const kept = !options.append ? undefined : existsSync(recording) ? recording : existsSync(file) ? file : undefined;
    this.target = kept ?? recording;
    if (kept !== undefined) {
      const text = readFileSync(kept, 'utf8');
      // The complete lines only: an unended last one is dropped below, so its call is not recorded
      // and must be written again when the resume makes it.
      const lines = text.split('\n');
      lines.pop();
      for (const line of lines) {
        const key = keyOf(line);
        if (key !== undefined) this.written.add(key);
      }
      // A last line cut off by a kill is dropped, not kept: left there, the entries appended after it
      // would make it a corrupt line in the middle, which a replay refuses (the cassette whole).
      if (text !== '' && !text.endsWith('\n'))
        truncateSync(kept, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
      this.started = true;
    } else {
      assertRecordable(file);
    }
  }

  /**
   * The run is under way: the recording is started afresh now, unless a call already did it. A
   * failure to write is left to the first call, whose error the run reports.
   */
  start(runId?: string): void {
    if (this.started) return;
    // Named by its run from now on (recordingFileOf), so that its resume finds it and no other does.
    if (runId !== undefined && this.target !== this.file) this.target = recordingFileOf(this.file, runId);
    try {
      writeFileSync(this.target, '');
      this.started = true;
    } catch {
      // the first record() tries again, and fails the call with the reason
    }
  }

  record(entry: Omit<CassetteEntry, 'v'>): void {
    // A call answered twice (the same prompt in two steps) needs one line to replay both.
    if (this.written.has(entry.key)) return;
    this.written.add(entry.key);
    const line = `${JSON.stringify({ v: CASSETTE_VERSION, ...entry })}\n`;
    if (this.started) appendFileSync(this.target, line);
    else writeFileSync(this.target, line); // the first call: the recording is started afresh
    this.started = true;
  }

  /**
   * The run ended: its recording becomes the cassette, renamed over `file` (one step: a reader sees
   * the old cassette or the new one, never half of it). A recorder never started leaves `file` as it
   * was. Calls recorded after this are appended to `file`. A rename that fails is a warning naming
   * where the recording stays, not a failure of the run that has ended.
   */
  close(): void {
    if (!this.started || this.target === this.file) return;
    try {
      renameSync(this.target, this.file);
      this.target = this.file;
    } catch (error) {
      process.emitWarning(
        `the cassette ${this.file} was not replaced (${(error as NodeJS.ErrnoException).code ?? String(error)}): the run's calls are in ${this.target}`,
      );
    }
  }
}

/**
 * A cassette can be written at `file`: its directory exists and may be written to, and it is not a
 * directory itself. Else a UsageError (exit 2) before the run starts, not an internal error later.
 */
function assertRecordable(file: string): void {
  const dir = dirname(file);
  let problem: string | undefined;
  try {
    if (!statSync(dir).isDirectory()) problem = `${dir} is not a directory`;
  } catch {
    problem = `the directory ${dir} does not exist`;
  }
  if (problem === undefined) {
    const exists = existsSync(file);
    if (exists && statSync(file).isDirectory()) problem = 'it is a directory';
    else {
      // The directory too: the recording is written beside the file, then renamed over it.
      if (exists && !writable(file)) problem = 'the file is not writable';
      else if (!writable(dir)) problem = `the directory ${dir} is not writable`;
    }
  }
  if (problem !== undefined) {
    throw new UsageError(
      `cannot record to the cassette ${file}: ${problem}`,
      'give --record a file in an existing directory you can write to',
    );
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Answers calls from a recorded cassette, loaded whole at start. */
export class CassettePlayer {
  private readonly entries = new Map<string, CassetteEntry>();

  constructor(readonly file: string) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read the cassette ${file}: ${fsProblem(error)}`, 'record one with --record FILE');
    }
    const lines = text.split('\n');
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      // The last line, unended and unreadable, is one a killed recorder was writing: the calls
      // before it stand (the recording's promise); only a line cut in the middle is corruption.
      if (index === lines.length - 1 && keyOf(line) === undefined) {
        process.emitWarning(
          `the cassette ${file} ends in a line cut off (a recording killed while writing it): its call is not replayed`,
        );
        return;
      }
      const entry = parseEntry(line, file, index + 1);
      this.entries.set(entry.key, entry);
    });
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The recorded call, or a CassetteMissError naming the step, provider, model and key — and, given
   * the call's `request`, what differs from the step's recorded calls.
   */
  answer(key: string, call: { step: string; provider: string; model: string; request?: ModelRequest }): CassetteEntry {
    const entry = this.entries.get(key);
    if (entry) return entry;
    const { request, ...named } = call;
    const why =
      request &&
      missReason(
        request,
        [...this.entries.values()].filter((e) => e.step === call.step).map((e) => e.request),
      );
    throw new CassetteMissError(this.file, { ...named, key }, why);
  }
}

/** The key of a cassette line; undefined for a line that is none (blank, or cut off by a kill). */
function keyOf(line: string): string | undefined {
  if (line.trim() === '') return undefined;
  try {
    const key = (JSON.parse(line) as Partial<CassetteEntry> | null)?.key;
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}

function parseEntry(line: string, file: string, lineNumber: number): CassetteEntry {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new UsageError(
      `${file}:${lineNumber}: not a cassette line (invalid JSON)`,
      'record the cassette again with --record',
    );
  }
  const entry = value as Partial<CassetteEntry>;
  const v = (value as { v?: unknown } | null)?.v;
  if (typeof v === 'number' && v !== CASSETTE_VERSION) {
    // Said at once, for the first line: a whole cassette of another format, not a corrupt line.
    const newer = v > CASSETTE_VERSION;
    throw new UsageError(
      `${file}: a cassette of format v${v}, ${newer ? 'newer than' : 'older than'} the v${CASSETTE_VERSION} this Elexirion reads`,
      newer
        ? 'replay it with the Elexirion that recorded it (or a newer one), or record it again with --record'
        : 'record the cassette again with --record',
    );
  }
  if (entry.v !== CASSETTE_VERSION || typeof entry.key !== 'string' || typeof entry.response !== 'object') {
    throw new UsageError(
      `${file}:${lineNumber}: not a cassette entry of version ${CASSETTE_VERSION} (needs v, key, response)`,
      'record the cassette again with --record',
    );
  }
  return entry as CassetteEntry;
}
