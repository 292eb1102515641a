// Cassettes: every provider call of a run written to a portable JSONL file (`--record FILE`), and
// answered from it offline (`--replay FILE`) — a pipeline recorded once with real keys replays in
// CI, byte for byte, without a network. One JSON object per line, so a run killed mid-way
// leaves a valid cassette of the calls it finished. Requests never contain API keys.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { ElexirionError, UsageError } from '../errors.js';
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

/** Writes the calls of a run; the file is started afresh when the recorder is created. */
export class CassetteRecorder {
  private readonly written = new Set<string>();

  constructor(readonly file: string) {
    writeFileSync(file, '');
  }

  record(entry: Omit<CassetteEntry, 'v'>): void {
    // A call answered twice (the same prompt in two steps) needs one line to replay both.
    if (this.written.has(entry.key)) return;
    this.written.add(entry.key);
    appendFileSync(this.file, `${JSON.stringify({ v: CASSETTE_VERSION, ...entry })}\n`);
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
      throw new UsageError(
        `cannot read the cassette ${file}: ${(error as Error).message}`,
        'record one with --record FILE',
      );
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
