// The `id:` of an event stream's events, and the Last-Event-ID a client sends back. A seq alone does
// not name an event: a run restarted after a crash (or resumed after its process was killed) reuses
// the seqs its crashed execution sent live but never journaled. So the id names the execution too —
// `SEQ@START-AT`: the seq, then the seq and `at` of its execution's `pipeline.execution.start` (both
// in the journal, so any server can tell which execution a client's id came from; `at` tells apart
// two executions that started at the same seq, the first having journaled nothing). A plain seq
// (older clients, `?after=N`) is still accepted.
import { decimalInteger } from '../../decimal-integer.js';
import { HttpError } from '../http-error.js';

/** An execution of a run, as its `pipeline.execution.start` names it. */
export interface ExecutionMark {
  seq: number;
  at: number;
}

/** A Last-Event-ID: the seq the client has through, and the execution it came from (if it says). */
export interface ResumeFrom {
  seq: number;
  execution?: ExecutionMark;
}

const COMPOSITE = /^([0-9]+)@([0-9]+)-([0-9]+)$/;

export function formatEventId(seq: number, execution: ExecutionMark | undefined): string {
  return execution === undefined ? String(seq) : `${seq}@${execution.seq}-${execution.at}`;
}

/** Reads a Last-Event-ID (or `?after=`); 400 for anything the stream never sent. */
export function parseEventId(raw: string): ResumeFrom {
  // Digits only (decimal-integer.ts): `0x10`, `1e3` or ` 7 ` is an id the stream never sent.
  const plain = decimalInteger(raw);
  if (plain !== undefined) return { seq: plain };
  const m = COMPOSITE.exec(raw);
  const [seq, start, at] = m ? [m[1], m[2], m[3]].map((part) => decimalInteger(part as string)) : [];
  // An event is its execution's start or comes after it.
  if (seq !== undefined && start !== undefined && at !== undefined && start >= 1 && start <= seq)
    return { seq, execution: { seq: start, at } };
  throw new HttpError(
    400,
    `Last-Event-ID must be an event seq (a whole number) or an id the stream sent (SEQ@START-AT), got ${JSON.stringify(raw)}`,
    'send the `id:` of the last event received',
  );
}
