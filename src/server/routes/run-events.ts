// GET /runs/:id/events: a run's events as server-sent events. First the journaled events after
// Last-Event-ID (or `?after=`), then those not yet committed, then live ones; `id:` is the event's
// seq in the run's journal, so a client that reconnects misses nothing and sees nothing twice.
// The stream ends after `pipeline.execution.stop` (or at once for a run not active here).
import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { EventRecord } from '../../journal/store.js';
import { HttpError } from '../http-error.js';
import type { LiveEvent } from '../run-event-hub.js';
import type { ServerDeps } from '../server-deps.js';
import { polledRunEvents } from './run-events-polled.js';
import { requireRun } from './runs.js';

const REPLAY_LIMIT = 1_000_000;
/**
 * A client that stops reading must not hold the server's memory: the events written to it wait in
 * the connection, and those not yet written in a queue. One that takes nothing for this long, or
 * falls this many live events behind, is dropped; it reconnects with Last-Event-ID and reads the
 * rest from the journal.
 */
export const MAX_CLIENT_STALL_MS = 30_000;
export const MAX_CLIENT_BACKLOG = 10_000;

export async function runEventsRoute(c: Context, deps: ServerDeps): Promise<Response> {
  const { engine, hub, redact } = deps;
  const runId = c.req.param('id') as string;
  const afterSeq = lastEventId(c);
  await requireRun(deps, runId);
  if (deps.remote) return polledRunEvents(c, deps, deps.remote, runId, afterSeq);
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  deps.streams?.add(outgoing);
  const maxStallMs = deps.maxClientStallMs ?? MAX_CLIENT_STALL_MS;
  const maxBacklog = deps.maxClientBacklog ?? MAX_CLIENT_BACKLOG;

  return streamSSE(c, async (stream) => {
    let lastSent = afterSeq;
    let ended = false;
    let finish: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    /** Cuts off a client that does not read: its pending writes fail, and everything settles. */
    const drop = (): void => {
      if (ended) return;
      ended = true;
      stream.abort();
      outgoing?.destroy();
      finish();
    };
    let writingSince: number | undefined;
    const stalled = setInterval(
      () => {
        if (writingSince !== undefined && performance.now() - writingSince > maxStallMs) drop();
      },
      Math.min(1000, maxStallMs),
    );
    // Only an execution.stop seen live ends the stream: a journaled one may belong to an attempt
    // that was resumed since (a new execution.start follows it).
    const send = async (event: LiveEvent, live: boolean): Promise<void> => {
      if (ended) return;
      if (event.seq !== undefined) {
        if (event.seq <= lastSent) return;
        lastSent = event.seq;
      }
      const payload = { seq: event.seq ?? null, type: event.type, at: event.at, data: event.data };
      writingSince = performance.now();
      await stream.writeSSE({
        event: event.type,
        data: redact(JSON.stringify(payload)),
        ...(event.seq === undefined ? {} : { id: String(event.seq) }),
      });
      writingSince = undefined;
      if (live && event.type === 'pipeline.execution.stop') {
        ended = true;
        finish();
      }
    };

    // Subscribe first, replay second: an event emitted during the replay waits in `queue`.
    let queue: LiveEvent[] | undefined = [];
    let chain = Promise.resolve();
    let backlog = 0;
    const enqueue = (event: LiveEvent) => {
      if (ended) return;
      if (backlog >= maxBacklog) return drop();
      backlog++;
      chain = chain
        .then(() => send(event, true))
        .catch(() => finish())
        .finally(() => {
          backlog--;
        });
    };
    const unwatch = hub.watch(runId, (event) => {
      if (queue) queue.push(event);
      else enqueue(event);
    });
    stream.onAbort(() => finish());
    try {
      // The buffer is read before the journal: an event the hub drops after this was journaled first.
      const buffered = hub.buffered(runId);
      const journaled = await replay(deps, runId, afterSeq, hub.droppedThrough(runId));
      const queued = new Set(queue);
      for (const event of mergeBySeq(journaled, buffered, queue)) await send(event, queued.has(event));
      const pending = queue;
      queue = undefined;
      for (const event of pending) enqueue(event);
      // A run no longer (or not) running in this process will send nothing more.
      const settled = () => {
        if (!engine.isActive(runId)) void chain.then(finish);
      };
      settled();
      // Also covers a run that ended between its last event and our subscription.
      const watchdog = setInterval(settled, 1000);
      const keepAlive = setInterval(() => {
        void stream.write(': keep-alive\n\n').catch(() => finish());
      }, deps.keepAliveMs ?? 15_000);
      await done;
      clearInterval(keepAlive);
      clearInterval(watchdog);
      await chain;
    } finally {
      clearInterval(stalled);
      unwatch();
    }
  });
}

/**
 * The journaled events after `afterSeq`. When the hub has dropped uncommitted events this client
 * has not seen (`dropped`) and the journal does not hold them yet, the run's pending events are
 * journaled now, ahead of their commit, and the rest read: nothing of them is kept in memory for it.
 */
async function replay(deps: ServerDeps, runId: string, afterSeq: number, dropped: number): Promise<EventRecord[]> {
  const { store } = deps.engine;
  const journaled = await store.getEvents(runId, afterSeq, REPLAY_LIMIT);
  const through = journaled.at(-1)?.seq ?? afterSeq;
  if (dropped <= through) return journaled;
  await deps.engine.journalPendingEvents(runId);
  return [...journaled, ...(await store.getEvents(runId, through, REPLAY_LIMIT))];
}

/** Journaled, buffered and queued events in seq order, each once (live ones without seq last). */
function mergeBySeq(journaled: EventRecord[], buffered: EventRecord[], queued: LiveEvent[]): LiveEvent[] {
  const bySeq = new Map<number, LiveEvent>();
  for (const e of [...journaled, ...buffered, ...queued])
    if (e.seq !== undefined && !bySeq.has(e.seq)) bySeq.set(e.seq, e);
  const ordered = [...bySeq.values()].sort((a, b) => (a.seq as number) - (b.seq as number));
  return [...ordered, ...queued.filter((e) => e.seq === undefined)];
}

function lastEventId(c: Context): number {
  const raw = c.req.header('last-event-id') ?? c.req.query('after') ?? '0';
  // Digits only: Number() would also take `0x10`, `1e3` or ` 7 ` for ids the stream never sent.
  const seq = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(seq)) {
    throw new HttpError(
      400,
      `Last-Event-ID must be an event seq (a whole number), got ${JSON.stringify(raw)}`,
      'send the `id:` of the last event received',
    );
  }
  return seq;
}
