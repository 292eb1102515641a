// Which execution of a run an event belongs to, and where a stream resumes for a Last-Event-ID that
// names its execution (routes/event-id.ts) — read from the journal, and from the execution running
// now (here, or on a cluster's worker as its relay names it), whose start may not be journaled yet
// (it is, with its first commit).
//
// A run's executions follow one another in seq order, each starting right after the journal's last
// event: what an execution sent at seqs from the next one's start on was never journaled, and is
// void. So a client's events of execution X are the journal's up to the next execution's start;
// those of an X the journal has no start of (it crashed before its first commit) are all void.
import { setImmediate as turn } from 'node:timers/promises';
import type { Store } from '../../journal/store.js';
import type { ExecutionMark, ResumeFrom } from './event-id.js';

const START = 'pipeline.execution.start';
/** The journal is read this many events at a time. */
const PAGE = 1_000;

function same(a: ExecutionMark, b: ExecutionMark): boolean {
  return a.seq === b.seq && a.at === b.at;
}

/**
 * The last seq a client that has events through `from` shares with the journal: the stream goes
 * on after it. A plain seq is taken at its word (as ever). `current`: the execution running here.
 */
export async function agreedSeq(
  store: Pick<Store, 'getEvents' | 'executionStarts'>,
  runId: string,
  from: ResumeFrom,
  current?: ExecutionMark,
): Promise<number> {
  const { seq, execution } = from;
  if (execution === undefined) return seq;
  if (current !== undefined && same(current, execution)) return seq;
  if (store.executionStarts) {
    // The run's starts, asked of the journal at once: no reading through its events.
    const starts = await store.executionStarts(runId);
    if (!starts.some((start) => same(start, execution))) return execution.seq - 1; // never journaled
    let next = current !== undefined && current.seq > execution.seq ? current.seq : Number.POSITIVE_INFINITY;
    const later = starts.find((start) => start.seq > execution.seq);
    if (later !== undefined) next = Math.min(next, later.seq);
    return Math.min(seq, next - 1);
  }
  const [start] = await store.getEvents(runId, execution.seq - 1, 1);
  if (start?.seq !== execution.seq || start.type !== START || !same(execution, start)) {
    // Never journaled: it crashed before its first commit, and a later execution took its seqs —
    // or, under a cluster, it runs on a worker that has not committed yet and whose relay did not
    // name it (`current`): sent again from its start then, rather than risk a void event kept.
    return execution.seq - 1;
  }
  // Journaled: the client's events are the journal's up to the next execution's start, if any.
  let next = current !== undefined && current.seq > execution.seq ? current.seq : Number.POSITIVE_INFINITY;
  for (let after = execution.seq; after < Math.min(seq, next - 1); ) {
    const page = await store.getEvents(runId, after, PAGE);
    const later = page.find((event) => event.type === START);
    if (later !== undefined) next = Math.min(next, later.seq);
    const last = page.at(-1);
    if (later !== undefined || last === undefined || page.length < PAGE) break;
    after = last.seq;
    await turn(); // a long execution read through: other requests go on meanwhile
  }
  return Math.min(seq, next - 1);
}

/**
 * The execution of the first event a stream resumed after `afterSeq` sends: the client's own, when it
 * resumes within it; none yet when its id was cut short (the start of the execution that took its
 * seqs comes first), or for a client from the beginning (the run's first start, seq 1); for a bare
 * seq, the journal says (executionAt) — when anything is to be sent before the next start
 * (`replay`: the journal has events after it, or an execution runs here).
 */
export async function resumedExecution(
  store: Pick<Store, 'getEvents' | 'executionStarts'>,
  runId: string,
  from: ResumeFrom,
  afterSeq: number,
  current: ExecutionMark | undefined,
  replay: boolean,
): Promise<ExecutionMark | undefined> {
  if (from.execution !== undefined) return afterSeq === from.seq ? from.execution : undefined;
  if (afterSeq === 0 || (!replay && current === undefined)) return undefined;
  return executionAt(store, runId, afterSeq + 1, current);
}

/**
 * The execution event `seq` belongs to: the last start at or before it. The one running here when it
 * started at or before `seq`; else the journal's starts (Store.executionStarts), or — a store
 * without them — its events read from the beginning (a stream that resumes in the middle of an
 * earlier execution, once).
 */
export async function executionAt(
  store: Pick<Store, 'getEvents' | 'executionStarts'>,
  runId: string,
  seq: number,
  current?: ExecutionMark,
): Promise<ExecutionMark | undefined> {
  if (current !== undefined && current.seq <= seq) return current;
  if (store.executionStarts) {
    let last: ExecutionMark | undefined;
    for (const start of await store.executionStarts(runId)) {
      if (start.seq > seq) break;
      last = { seq: start.seq, at: start.at };
    }
    return last;
  }
  let found: ExecutionMark | undefined;
  for (let after = 0; after < seq; ) {
    const page = await store.getEvents(runId, after, PAGE);
    for (const event of page) {
      if (event.seq > seq) return found;
      if (event.type === START) found = { seq: event.seq, at: event.at };
    }
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE) break;
    after = last.seq;
    await turn();
  }
  return found;
}
