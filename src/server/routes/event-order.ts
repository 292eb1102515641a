// The order an event stream sends a local run's events in: by journal seq, each seq once, with no
// gap — whatever order they reach it in. They do not always come in seq order:
//
// - a step.stop is journaled (its seq taken) before its step's commit and emitted after it, and a
//   parallel sibling emits events with later seqs meanwhile (a streamed chunk, a step.start);
// - on PostgreSQL each commit is its own transaction on its own connection, so a sibling's commit
//   holding later seqs can become visible before one holding earlier seqs: a journal page may skip
//   seqs that a commit still under way will write a moment later.
//
// An event past a missing seq waits here until the missing one arrives (live, or read again from
// the journal: routes/run-events.ts); a hole that does not fill (a commit that failed) is given up.
// Events the journal does not keep (a step taken from it on resume) have no seq: each goes out right
// after the seq it followed when it was emitted.
import type { LiveEvent } from '../run-event-hub.js';

/** An event waiting to be sent: `live` when it came from the hub after the stream subscribed. */
export interface Queued {
  event: LiveEvent;
  live: boolean;
}

export class EventOrder {
  /** The seq sent next. */
  private next: number;
  private readonly waiting = new Map<number, Queued>();
  /** Events without a seq, by the seq they follow. */
  private readonly unsequenced = new Map<number, Queued[]>();

  /** `afterSeq`: the last seq the client has (Last-Event-ID); 0 for all. */
  constructor(afterSeq: number) {
    this.next = afterSeq + 1;
  }

  /** Every seq up to this one was taken to be sent (or the client had it). */
  get delivered(): number {
    return this.next - 1;
  }

  /** The seq missing while later ones wait for it (a hole); undefined when none waits. */
  get missing(): number | undefined {
    return this.waiting.size > 0 ? this.next : undefined;
  }

  /** Whether any event waits, with a seq or without (for a seq not taken yet). */
  get holding(): boolean {
    return this.waiting.size > 0 || this.unsequenced.size > 0;
  }

  /**
   * Adds `event`; `after`, for one without a seq, is the seq it follows. Returns whether it was kept:
   * not when its seq was taken already, or waits already (from another source).
   */
  add(event: LiveEvent, live: boolean, after = this.delivered): boolean {
    if (event.seq === undefined) {
      const at = Math.max(after, this.delivered);
      const list = this.unsequenced.get(at) ?? [];
      list.push({ event, live });
      this.unsequenced.set(at, list);
      return true;
    }
    if (event.seq < this.next || this.waiting.has(event.seq)) return false;
    this.waiting.set(event.seq, { event, live });
    return true;
  }

  /** The events that can be sent now, in order; each is handed out once. */
  take(): Queued[] {
    const out: Queued[] = [];
    for (;;) {
      this.release(out);
      const due = this.waiting.get(this.next);
      if (due === undefined) return out;
      this.waiting.delete(this.next);
      out.push(due);
      this.next++;
    }
  }

  /** Gives up the hole: sending goes on with the lowest seq held (what waits for it included). */
  skip(): void {
    let lowest = Number.POSITIVE_INFINITY;
    for (const seq of this.waiting.keys()) lowest = Math.min(lowest, seq);
    for (const after of this.unsequenced.keys()) lowest = Math.min(lowest, after + 1);
    if (lowest !== Number.POSITIVE_INFINITY && lowest > this.next) this.next = lowest;
  }

  /** Moves the events without a seq whose place has come to `out`, in the order of their places. */
  private release(out: Queued[]): void {
    if (this.unsequenced.size === 0) return;
    const due = [...this.unsequenced.keys()].filter((after) => after < this.next).sort((a, b) => a - b);
    for (const after of due) {
      out.push(...(this.unsequenced.get(after) as Queued[]));
      this.unsequenced.delete(after);
    }
  }
}
