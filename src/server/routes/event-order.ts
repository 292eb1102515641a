// The order an event stream sends a local run's events in: by journal seq, each seq once, with no
// gap — whatever order they reach it in. They do not always come in seq order:
//
// - a step.stop is journaled (its seq taken) before its step's commit and emitted after it, and a
//   parallel sibling emits events with later seqs meanwhile (a streamed chunk, a step.start);
// - on PostgreSQL each commit is its own transaction on its own connection, so a sibling's commit
//   holding later seqs can become visible before one holding earlier seqs: a journal page may skip
//   seqs that a commit still under way will write a moment later.
//
// An event past a missing seq is held here until the missing one arrives (live, or read again from
// the journal: routes/run-events.ts); a hole that does not fill (a commit that failed) is given up.
// A client is behind (`behind`) by the live events whose turn had come when they arrived, not yet
// taken to be written: not by those held for a seq the run has yet to deliver, nor by those a
// filled hole releases at once — a reading client must not be taken for a slow one because the
// run delivered one event late.
// Events the journal does not keep (a step taken from it on resume) have no seq: each goes out right
// after the seq it followed when it was emitted.
//
// A run restarted after a crash (here, in the same process) continues the seqs from the journal's
// end, reusing those of the events its crashed execution emitted but never committed: from the new
// execution's start on, what the earlier one sent is void (`restart`).
import type { LiveEvent } from '../run-event-hub.js';

/** An event waiting to be sent. */
export interface Queued {
  event: LiveEvent;
  /** Its seq; for an event without one, the seq it follows. */
  place: number;
  /** Counts in `behind` until written: live, and its turn had come when it arrived. */
  counts: boolean;
}

export class EventOrder {
  /** The seq that becomes ready next. */
  private next: number;
  /** Every seq up to this one was handed out by `take` (or the client had it). */
  private taken: number;
  /** Held: events with a seq past `next`, waiting for the seqs before them. */
  private readonly waiting = new Map<number, Queued>();
  /** Events without a seq, by the seq they follow (once that one is ready, so are they). */
  private readonly unsequenced = new Map<number, Queued[]>();
  /** Events whose turn has come, in order, not yet handed out. */
  private ready: Queued[] = [];
  /** Those of `ready` that count (see `behind`). */
  private counted = 0;

  /** `afterSeq`: the last seq the client has (Last-Event-ID); 0 for all. */
  constructor(afterSeq: number) {
    this.next = afterSeq + 1;
    this.taken = afterSeq;
  }

  /** Every seq up to this one was taken to be sent (or the client had it). */
  get delivered(): number {
    return this.taken;
  }

  /** The seq missing while later ones wait for it (a hole); undefined when none waits. */
  get missing(): number | undefined {
    return this.waiting.size > 0 ? this.next : undefined;
  }

  /** Whether any event is held, with a seq or without (for a seq not ready yet). */
  get holding(): boolean {
    return this.waiting.size > 0 || this.unsequenced.size > 0;
  }

  /** Live events that were ready on arrival, not yet taken: what a client that does not read falls behind by. */
  get behind(): number {
    return this.counted;
  }

  /**
   * Adds `event`; `after`, for one without a seq, is the seq it follows. Returns whether it was kept:
   * not when its seq was taken already, or waits already (from another source).
   */
  add(event: LiveEvent, live: boolean, after = this.next - 1): boolean {
    const place = event.seq ?? Math.max(after, this.next - 1);
    const queued: Queued = { event, place, counts: false };
    if (event.seq === undefined) {
      const list = this.unsequenced.get(place) ?? [];
      list.push(queued);
      this.unsequenced.set(place, list);
    } else {
      if (event.seq < this.next || this.waiting.has(event.seq)) return false;
      this.waiting.set(event.seq, queued);
    }
    this.advance();
    // Ready at once (its place passed): the client, not the run, is what it waits for.
    if (live && place < this.next) {
      queued.counts = true;
      this.counted++;
    }
    return true;
  }

  /** The events that can be sent now, in order; each is handed out once. */
  take(): Queued[] {
    const out = this.ready;
    this.ready = [];
    this.counted = 0;
    this.taken = this.next - 1;
    return out;
  }

  /** Gives up the hole: sending goes on with the lowest seq held (what waits for it included). */
  skip(): void {
    let lowest = Number.POSITIVE_INFINITY;
    for (const seq of this.waiting.keys()) lowest = Math.min(lowest, seq);
    for (const after of this.unsequenced.keys()) lowest = Math.min(lowest, after + 1);
    if (lowest !== Number.POSITIVE_INFINITY && lowest > this.next) this.next = lowest;
    this.advance();
  }

  /**
   * A new execution of the run starts at seq `base`, right after the journal's last event: every
   * event an earlier execution emitted from there on was never committed, and never will be. Those
   * not sent yet are dropped; if some were sent, sending goes back to `base` (the client's ids go
   * back, at the new execution's start) so that each seq's last event sent is the journal's.
   */
  restart(base: number): void {
    for (const seq of [...this.waiting.keys()]) if (seq >= base) this.waiting.delete(seq);
    // Those placed right before `base` too: the new execution announces its journal steps again.
    for (const after of [...this.unsequenced.keys()]) if (after >= base - 1) this.unsequenced.delete(after);
    this.ready = this.ready.filter((q) => (q.event.seq === undefined ? q.place < base - 1 : q.place < base));
    this.counted = this.ready.filter((q) => q.counts).length;
    if (base < this.next) this.next = base;
    if (base <= this.taken) this.taken = base - 1;
  }

  /** Moves what can go out now to `ready`, in order. */
  private advance(): void {
    for (;;) {
      this.release();
      const due = this.waiting.get(this.next);
      if (due === undefined) return;
      this.waiting.delete(this.next);
      this.ready.push(due);
      this.next++;
    }
  }

  /** Moves the events without a seq whose place has come, in the order of their places. */
  private release(): void {
    if (this.unsequenced.size === 0) return;
    const due = [...this.unsequenced.keys()].filter((after) => after < this.next).sort((a, b) => a - b);
    for (const after of due) {
      this.ready.push(...(this.unsequenced.get(after) as Queued[]));
      this.unsequenced.delete(after);
    }
  }
}
