// A follower's merge of a run's two event sources: the journal (durable, the truth, but written at
// commit pace) and the worker's live relay (at once, but best effort). Events come out in journal
// seq order, each seq once, with no gap: a live event that runs ahead of a missing one waits until
// the missing one arrives, live or from the journal.
//
// A live event is delivered before it is committed, and its execution may die before the commit
// (a worker killed mid-step). The run's next execution continues the seqs from the journal, so it
// reuses those of the lost events. It is recognised by its `attempt`: once one whose `base` lies
// below what was delivered arrives, delivery goes back to `base` and goes on with the new
// execution's events (a follower's ids go back; the execution.start at `base` says why). The
// journal has the last word: an event read there that differs from the one delivered live at its
// seq (the new execution's live events were lost too) also sends delivery back to that seq.
import type { EventRecord } from '../journal/store.js';
import { JOURNALED_WITH_THEIR_STATE } from '../telemetry/events.js';
import type { RelayedEvent } from './event-relay.js';

/** An event as a follower delivers it; `seq` absent: not journaled (shown live only). */
export interface SequencedEvent {
  seq?: number;
  type: string;
  at: number;
  data: Record<string, unknown>;
}

/** A seq the journal skips (events of a commit that failed) is given up after this long. */
export const JOURNAL_HOLE_GRACE_MS = 2_000;

export class RunEventSequence {
  /** The seq delivered next. */
  private next: number;
  /** Every seq up to this one was read from the journal (or delivered before this follower began). */
  private confirmed: number;
  private readonly journaled = new Map<number, EventRecord>();
  private readonly live = new Map<number, RelayedEvent>();
  /** Delivered live and not yet read from the journal: what was delivered, to compare. */
  private readonly unconfirmed = new Map<number, string>();
  /** Live events without seq, by the seq they follow. */
  private readonly unsequenced = new Map<number, SequencedEvent[]>();
  /** The execution whose live events are taken; `past` ones were replaced by it. */
  private attempt: string | undefined;
  private readonly past = new Set<string>();
  /** The highest seq each execution seen so far had reached. */
  private readonly reach = new Map<string, number>();
  private ready: SequencedEvent[] = [];
  private holeSince: number | undefined;

  /**
   * `afterSeq`: the last seq the reader has (Last-Event-ID); `committed`: the journal's last seq
   * now, when the reader may have been sent events the journal does not have yet.
   */
  constructor(afterSeq: number, committed = afterSeq) {
    this.next = afterSeq + 1;
    this.confirmed = Math.min(afterSeq, committed);
  }

  /** The journal is read after this seq. */
  get journalCursor(): number {
    return this.confirmed;
  }

  /** Events the journal has after `journalCursor`, in seq order. */
  fromJournal(events: readonly EventRecord[], now = Date.now()): void {
    for (const event of events) {
      if (event.seq <= this.confirmed) continue;
      if (event.seq < this.next) {
        const delivered = this.unconfirmed.get(event.seq);
        if (delivered === undefined || delivered === identity(event)) continue;
        this.rewind(event.seq); // what was delivered at this seq never reached the journal
      }
      this.journaled.set(event.seq, event);
    }
    this.confirm(events, now);
    this.drain();
  }

  /** Relayed events, in the order the stream holds them. */
  fromLive(events: readonly RelayedEvent[]): void {
    const latest = events.at(-1);
    for (const event of events) {
      const at = event.seq ?? event.after ?? 0;
      this.reach.set(event.attempt, Math.max(this.reach.get(event.attempt) ?? 0, at));
      // An execution's events past the base of a later one in the same read were never committed.
      if (latest && event.attempt !== latest.attempt && at >= latest.base) continue;
      this.receive(event);
    }
    this.drain();
  }

  /** What can be delivered now, in order (each event once). */
  take(): SequencedEvent[] {
    const out = this.ready;
    this.ready = [];
    return out;
  }

  private receive(event: RelayedEvent): void {
    if (event.attempt !== this.attempt) {
      if (this.past.has(event.attempt)) return; // an execution that a later one replaced
      this.adopt(event);
    }
    if (event.seq === undefined) {
      const after = event.after ?? 0;
      if (after < this.next - 1) return; // its place was passed: it would be out of order
      const { attempt: _a, base: _b, after: _after, startAt: _s, ...shown } = event;
      const waiting = this.unsequenced.get(after) ?? [];
      waiting.push(shown);
      this.unsequenced.set(after, waiting);
    } else if (event.seq >= this.next) {
      this.live.set(event.seq, event);
    }
  }

  /** A new execution of the run: its first event seen here decides whether delivery goes back. */
  private adopt(event: RelayedEvent): void {
    if (this.attempt !== undefined) this.past.add(this.attempt);
    this.attempt = event.attempt;
    const { base } = event;
    // An earlier execution sent events from `base` on; those delivered here never reached the
    // journal (the new execution starts right after its last committed event).
    const overlapped = [...this.reach].some(([attempt, reach]) => attempt !== event.attempt && reach >= base);
    if (overlapped && base > this.confirmed && base < this.next) this.rewind(base);
    else this.forget(base);
  }

  /** Delivery goes back to `seq`: what was delivered from there on is void. */
  private rewind(seq: number): void {
    this.next = seq;
    for (const delivered of [...this.unconfirmed.keys()]) if (delivered >= seq) this.unconfirmed.delete(delivered);
    this.forget(seq);
  }

  /** Drops the live events waiting from `seq` on: an execution that is over sent them. */
  private forget(seq: number): void {
    for (const waiting of [...this.live.keys()]) if (waiting >= seq) this.live.delete(waiting);
    for (const after of [...this.unsequenced.keys()]) if (after >= seq - 1) this.unsequenced.delete(after);
  }

  /** Moves `confirmed` over the seqs the journal now has without a hole; gives up a lasting hole. */
  private confirm(events: readonly EventRecord[], now: number): void {
    const seqs = events.map((e) => e.seq).filter((seq) => seq > this.confirmed);
    for (const seq of seqs) {
      if (seq === this.confirmed + 1) {
        this.confirmed = seq;
        this.unconfirmed.delete(seq);
        continue;
      }
      // A hole: a commit still in flight (parallel steps commit side by side), or one that failed.
      this.holeSince ??= now;
      if (now - this.holeSince < JOURNAL_HOLE_GRACE_MS) return;
      for (let skipped = this.confirmed + 1; skipped < seq; skipped++) this.unconfirmed.delete(skipped);
      if (this.next < seq) this.next = seq;
      this.confirmed = seq;
      this.unconfirmed.delete(seq);
      this.holeSince = undefined;
    }
    this.holeSince = undefined;
  }

  private drain(): void {
    for (;;) {
      const waiting = this.unsequenced.get(this.next - 1);
      if (waiting) {
        this.ready.push(...waiting);
        this.unsequenced.delete(this.next - 1);
      }
      const fromJournal = this.journaled.get(this.next);
      const fromLive = this.live.get(this.next);
      if (!fromJournal && !fromLive) break;
      this.journaled.delete(this.next);
      this.live.delete(this.next);
      if (fromJournal) {
        const { runId: _r, ...shown } = fromJournal;
        this.ready.push(shown);
      } else if (fromLive) {
        const { attempt: _a, base: _b, after: _after, startAt: _s, ...shown } = fromLive;
        this.ready.push(shown);
        if (this.next > this.confirmed) this.unconfirmed.set(this.next, identity(fromLive));
      }
      this.next++;
    }
  }
}

/**
 * What tells two events at one seq apart. A stop's `at` differs between the journal (the step's or
 * run's end) and the bus (after its commit), but a live stop is always committed already.
 */
function identity(event: { type: string; at: number }): string {
  return JOURNALED_WITH_THEIR_STATE.has(event.type) ? event.type : `${event.type}@${event.at}`;
}
