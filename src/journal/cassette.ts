// Cassettes: every provider call of a run written to a portable JSONL file (`--record FILE`), and
// answered from it offline (`--replay FILE`) — a pipeline recorded once with real keys replays in
// CI, byte for byte, without a network. One JSON object per line, so a run killed mid-way
// leaves a valid cassette of the calls it finished. Requests never contain API keys.

import { accessSync, appendFileSync, constants, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ElexirionError, UsageError } from '../errors.js';
import { fsProblem } from '../fs-problem.js';
import type { ModelRequest, ModelResponse } from '../providers/provider.js';

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
  constructor(file: string, entry: { step: string; provider: string; model: string; key: string }) {
    super(
      `replay: the cassette ${file} holds no answer for step "${entry.step}" (${entry.provider}/${entry.model}, call ${entry.key.slice(0, 16)}…)`,
      {
        hint: 'the prompt, model or parameters changed since the recording: record the cassette again with --record',
      },
    );
    this.key = entry.key;
  }
}

/**
 * Writes the calls of a run. The file is started afresh by the first call written — not when the
 * recorder is created: a run refused after that (bad input, a missing key) leaves a cassette
 * recorded earlier as it was; only where it would go is checked at once. With `append` (a resumed
 * run going on recording to the cassette it started), kept: the calls it holds stay, and are not
 * written twice.
 */
export class CassetteRecorder {
  private readonly written = new Set<string>();
  /** Whether the file is this recorder's yet: until then it is not touched. */
  private started = false;

  constructor(
    readonly file: string,
    options: { append?: boolean } = {},
  ) {
    if (options.append && existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      for (const line of text.split('\n')) {
        const key = keyOf(line);
        if (key !== undefined) this.written.add(key);
      }
      // A last line cut off by a kill stays as it is; the next entry starts a line of its own.
      if (text !== '' && !text.endsWith('\n')) appendFileSync(file, '\n');
      this.started = true;
    } else {
      assertRecordable(file);
    }
  }

  /**
   * The run is under way: the cassette is started afresh now, unless a call already did it. A
   * failure to write is left to the first call, whose error the run reports.
   */
  start(): void {
    if (this.started) return;
    try {
      writeFileSync(this.file, '');
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
    if (this.started) appendFileSync(this.file, line);
    else writeFileSync(this.file, line); // the first call: the cassette is started afresh
    this.started = true;
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
      try {
        accessSync(exists ? file : dir, constants.W_OK);
      } catch {
        problem = `${exists ? 'the file' : `the directory ${dir}`} is not writable`;
      }
    }
  }
  if (problem !== undefined) {
    throw new UsageError(
      `cannot record to the cassette ${file}: ${problem}`,
      'give --record a file in an existing directory you can write to',
    );
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
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      const entry = parseEntry(line, file, index + 1);
      this.entries.set(entry.key, entry);
    });
  }

  get size(): number {
    return this.entries.size;
  }

  /** The recorded call, or a CassetteMissError naming the step, provider, model and key. */
  answer(key: string, call: { step: string; provider: string; model: string }): CassetteEntry {
    const entry = this.entries.get(key);
    if (!entry) throw new CassetteMissError(this.file, { ...call, key });
    return entry;
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
  if (entry.v !== CASSETTE_VERSION || typeof entry.key !== 'string' || typeof entry.response !== 'object') {
    throw new UsageError(
      `${file}:${lineNumber}: not a cassette entry of version ${CASSETTE_VERSION} (needs v, key, response)`,
      'record the cassette again with --record',
    );
  }
  return entry as CassetteEntry;
}
