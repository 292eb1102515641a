// The publishing side of live events in a cluster: the worker that runs a run adds each of its bus
// events, as it happens, to a Redis Stream of the run's own, with the seq the journal gives it. The
// journal stays the source of truth — it gets the same events with the next commit — so the relay
// is best effort: a message Redis refuses or loses is a gap that a follower fills from the journal.
//
// A Stream, not pub/sub: a follower that subscribes a moment late (or reconnects) reads what the
// stream still holds, so the tokens streamed so far by a running step are not lost to it until the
// step's commit. The stream is capped (MAXLEN ~) and expires after the run's last event.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Engine } from '../engine/engine.js';
import type { EventBus } from '../telemetry/event-bus.js';
import type { ElexirionEvent } from '../telemetry/events.js';
import type { Redactor } from '../telemetry/redact.js';

/** One event as relayed: what a follower merges with the journal. */
export interface RelayedEvent {
  /** The event's seq in the run's journal; absent when the journal does not keep it. */
  seq?: number;
  /** For an event without seq: the seq of the journaled event emitted just before it (its place). */
  after?: number;
  type: string;
  at: number;
  data: Record<string, unknown>;
  /** The execution of the run that emitted it: a run restarted (here or elsewhere) gets a new one. */
  attempt: string;
  /** The seq of that execution's first event: its events from there on replace what an earlier one sent. */
  base: number;
  /**
   * The `at` of that execution's `pipeline.execution.start` (at `base`), when the relay saw it: with
   * `base`, the execution as an event stream's ids name it (server/routes/event-id.ts), so that a
   * server can tell a client's id of the execution under way, before its start is journaled.
   */
  startAt?: number;
}

/** Entries a run's stream keeps at least (a long streamed answer is a few thousand chunks). */
export const RELAY_MAX_LEN = 10_000;
/** A run's stream expires this long after its last event (a follower then reads the journal). */
const RELAY_TTL_MS = 10 * 60_000;
/** The expiry is pushed back at most this often while a run emits. */
const TTL_REFRESH_MS = 60_000;
/** After the run's end: long enough for its followers to read its last events. */
const ENDED_TTL_MS = 60_000;

export function runEventsKey(prefix: string, runId: string): string {
  return `${prefix}:run-events:${runId}`;
}

interface Attempt {
  id: string;
  base: number;
  startAt?: number;
  refreshedAt: number;
}

export class EventRelay {
  private readonly attempts = new Map<string, Attempt>();

  /**
   * `engine` gives each event its journal seq; `redact` runs over every message (the journal's
   * copy stays whole, Redis gets no secret).
   */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly engine: Pick<Engine, 'eventSeq' | 'lastEventSeq'>,
    private readonly redact: Redactor,
  ) {}

  /** Relays every later event of `bus`. Attach after the engine: its subscriber assigns the seqs. */
  attach(bus: EventBus): () => void {
    const off = bus.onAny((event) => this.relay(event));
    return () => {
      off();
      this.attempts.clear();
    };
  }

  private relay(event: ElexirionEvent): void {
    const runId = (event.data as { runId?: string }).runId;
    if (runId === undefined) return; // provider-wide events (circuit, queue) belong to no run
    const seq = this.engine.eventSeq(event);
    const last = this.engine.lastEventSeq(runId) ?? 0;
    let attempt = this.attempts.get(runId);
    if (!attempt || event.type === 'pipeline.execution.start') {
      attempt = { id: randomBytes(6).toString('base64url'), base: seq ?? last + 1, refreshedAt: 0 };
      if (event.type === 'pipeline.execution.start') attempt.startAt = event.at;
      this.attempts.set(runId, attempt);
    }
    const ended = event.type === 'pipeline.execution.stop';
    if (ended) this.attempts.delete(runId);
    // Redis away: nothing is queued for later (stale by then, and unbounded); the journal has it all.
    if (this.redis.status !== 'ready') return;

    const relayed: RelayedEvent = {
      ...(seq === undefined ? { after: last } : { seq }),
      type: event.type,
      at: event.at,
      data: event.data as unknown as Record<string, unknown>,
      attempt: attempt.id,
      base: attempt.base,
    };
    if (attempt.startAt !== undefined) relayed.startAt = attempt.startAt;
    const key = runEventsKey(this.prefix, runId);
    const message = this.redact(JSON.stringify(relayed));
    this.redis.xadd(key, 'MAXLEN', '~', RELAY_MAX_LEN, '*', 'e', message).catch(() => {});
    const now = Date.now();
    if (ended || now - attempt.refreshedAt >= TTL_REFRESH_MS) {
      attempt.refreshedAt = now;
      this.redis.pexpire(key, ended ? ENDED_TTL_MS : RELAY_TTL_MS).catch(() => {});
    }
  }
}
