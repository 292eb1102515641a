// The live side of a run's event stream. The journal holds a run's events once they are committed
// (with the next step commit); the hub holds, per active run, the events emitted since — each with
// the seq the journal gives it — and fans every new event out to the streams watching that run.
// Journal + hub together cover every event of a run, once the commits under way have landed — but
// for the oldest of a step streaming more than MAX_BUFFERED events: those the hub drops, and notes
// how far (`droppedThrough`); a stream that needs them has the engine write the run's pending
// events to the journal first (routes/run-events.ts). The hub's memory stays bounded however long
// a step streams, and the journal is written ahead of a commit only when a client needs it.
// A run's new execution (a restart after a crash, a resume) starts right after the journal's last
// event: what the hub still holds of an earlier one is in the journal, or was lost with its crash
// — its seqs are the new execution's now — and is forgotten. A run that ends without an
// execution.stop (given up to another process, or its final write failed) leaves what it buffered
// since its last step; any run's start sweeps those of runs no longer active here. It also keeps
// each active run's execution start (`execution`): journaled only with the execution's first commit,
// it is what tells a client's Last-Event-ID of this execution from one of a crashed one's.
import type { Engine } from '../engine/engine.js';
import type { EventRecord } from '../journal/store.js';
import type { ElexirionEvent } from '../telemetry/events.js';
import type { ExecutionMark } from './routes/event-id.js';

/** A live event: `seq` is absent for events the journal does not keep (a step replayed from it). */
export type LiveEvent = Omit<EventRecord, 'seq'> & { seq?: number };
type Watcher = (event: LiveEvent) => void;

/** Per run, at most this many uncommitted events are kept (a step streaming a long answer). */
export const MAX_BUFFERED = 5_000;

export class RunEventHub {
  private readonly buffers = new Map<string, EventRecord[]>();
  /** Per run, the seq of the last event dropped from its buffer (not known to be in the journal). */
  private readonly dropped = new Map<string, number>();
  private readonly watchers = new Map<string, Set<Watcher>>();
  /** Per run, the start of its execution under way: not journaled until its first commit. */
  private readonly starts = new Map<string, ExecutionMark>();
  private readonly off: () => void;

  /** Subscribe before any run starts: the engine's own journaling subscriber must run first. */
  constructor(
    private readonly engine: Pick<Engine, 'bus' | 'eventSeq'> & Partial<Pick<Engine, 'isActive'>>,
    private readonly maxBuffered = MAX_BUFFERED,
  ) {
    this.off = engine.bus.onAny((event) => this.receive(event));
  }

  /** Calls `watcher` with every later event of `runId`; returns the unsubscribe function. */
  watch(runId: string, watcher: Watcher): () => void {
    let set = this.watchers.get(runId);
    if (!set) {
      set = new Set();
      this.watchers.set(runId, set);
    }
    set.add(watcher);
    return () => {
      set.delete(watcher);
      if (set.size === 0) this.watchers.delete(runId);
    };
  }

  /** Events of an active run not yet known to be in the journal. */
  buffered(runId: string): EventRecord[] {
    return [...(this.buffers.get(runId) ?? [])];
  }

  /** The seq of the last uncommitted event of `runId` no longer buffered (0: none dropped). */
  droppedThrough(runId: string): number {
    return this.dropped.get(runId) ?? 0;
  }

  /** The start of `runId`'s execution under way here (the last one seen, until its stop). */
  execution(runId: string): ExecutionMark | undefined {
    return this.starts.get(runId);
  }

  close(): void {
    this.off();
  }

  private receive(event: ElexirionEvent): void {
    const runId = (event.data as { runId?: string }).runId;
    if (runId === undefined) return;
    const data = event.data as unknown as Record<string, unknown>;
    const live: LiveEvent = { runId, type: event.type, at: event.at, data };
    // A step taken from the journal on resume is announced but not journaled again: no seq of its own.
    // The engine knows each event's exact seq — a step.stop's too, emitted after its commit, when a
    // parallel sibling may have journaled more events.
    const seq = this.engine.eventSeq(event);
    if (event.type === 'pipeline.execution.start') {
      this.forget(runId);
      this.sweep();
    }
    if (seq !== undefined) {
      if (event.type === 'pipeline.execution.start') this.starts.set(runId, { seq, at: event.at });
      live.seq = seq;
      this.remember({ ...live, seq });
    }
    for (const watcher of this.watchers.get(runId) ?? []) watcher(live);
    if (event.type === 'pipeline.execution.stop') this.forget(runId);
  }

  private forget(runId: string): void {
    this.buffers.delete(runId);
    this.dropped.delete(runId);
    this.starts.delete(runId);
  }

  /** Forgets what runs no longer active here buffered: no execution.stop will come for them. */
  private sweep(): void {
    const isActive = this.engine.isActive;
    if (isActive === undefined) return;
    for (const runId of new Set([...this.buffers.keys(), ...this.starts.keys()]))
      if (!isActive.call(this.engine, runId)) this.forget(runId);
  }

  private remember(record: EventRecord): void {
    let buffer = this.buffers.get(record.runId);
    if (!buffer) {
      buffer = [];
      this.buffers.set(record.runId, buffer);
    }
    // A step.stop is emitted after its commit, which took every event up to the stop's own seq not
    // taken by an earlier commit — one still under way, maybe (parallel siblings commit side by side;
    // on PostgreSQL, each in a transaction of its own): those reach the journal a moment later, and
    // a stream missing them reads them there (routes/run-events.ts). A parallel sibling's later
    // events are still waiting for their commit.
    if (record.type === 'pipeline.step.stop') {
      const committed = record.seq;
      const waiting = buffer.filter((e) => e.seq > committed);
      buffer.length = 0;
      buffer.push(...waiting);
      return;
    }
    buffer.push(record);
    if (buffer.length > this.maxBuffered) {
      const gone = buffer.splice(0, buffer.length - this.maxBuffered);
      this.dropped.set(record.runId, (gone.at(-1) as EventRecord).seq);
    }
  }
}
