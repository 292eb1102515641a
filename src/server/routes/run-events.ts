// GET /runs/:id/events: a run's events as server-sent events. First the journaled events after
// Last-Event-ID (or `?after=`), then those not yet committed, then live ones; `id:` is the event's
// seq in the run's journal, so a client that reconnects misses nothing and sees nothing twice.
// The journal is read a page at a time, each written to the client before the next is read: a
// client holds at most one page of it in memory, however long the run and however slow the client.
// The stream ends after `pipeline.execution.stop` (or at once for a run not active here).
import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { EventRecord } from '../../journal/store.js';
import { HttpError } from '../http-error.js';
import type { LiveEvent } from '../run-event-hub.js';
import type { ServerDeps } from '../server-deps.js';
import { eventPayload } from './event-payload.js';
import { polledRunEvents } from './run-events-polled.js';
import { requireRun } from './runs.js';

/** The journal is replayed this many events at a time (`Store.getEvents`' limit). */
export const REPLAY_PAGE = 1_000;
/**
 * A client that stops reading must not hold the server's memory: the events written to it wait in
 * the connection, and those not yet written in a queue. One that takes nothing for this long, or
 * falls this many live events behind (while it is sent the replay too), is dropped; it reconnects
 * with Last-Event-ID and reads the rest from the journal.
 */
export const MAX_CLIENT_STALL_MS = 30_000;
export const MAX_CLIENT_BACKLOG = 10_000;

const STOP = 'pipeline.execution.stop';

/** An event waiting to be sent during the hand-over: `live` when it came from the hub after subscribing. */
interface Pending {
  event: LiveEvent;
  live: boolean;
}

export async function runEventsRoute(c: Context, deps: ServerDeps): Promise<Response> {
  const { engine, hub } = deps;
  const { store } = engine;
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
    const end = (): void => {
      ended = true;
      finish();
    };
    /** Cuts off a client that does not read: its pending writes fail, and everything settles. */
    const drop = (): void => {
      if (ended) return;
      end();
      stream.abort();
      outgoing?.destroy();
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
        if (event.seq <= lastSent) {
          // Sent already, from the journal: seen live now, it is this execution's stop.
          if (live && event.type === STOP) end();
          return;
        }
        lastSent = event.seq;
      }
      writingSince = performance.now();
      await stream.writeSSE({
        event: event.type,
        data: JSON.stringify(eventPayload(deps, event)),
        ...(event.seq === undefined ? {} : { id: String(event.seq) }),
      });
      writingSince = undefined;
      if (live && event.type === STOP) end();
    };
    /** Sends `events` in seq order, those without one last; live ones leave the backlog as they go. */
    const sendInOrder = async (events: Pending[]): Promise<void> => {
      const ordered = [
        ...events
          .filter((p) => p.event.seq !== undefined)
          .sort((a, b) => (a.event.seq as number) - (b.event.seq as number)),
        ...events.filter((p) => p.event.seq === undefined),
      ];
      for (const { event, live } of ordered) {
        await send(event, live);
        if (live) backlog--;
      }
    };

    // Live events that arrive during the replay and the hand-over wait in `pending` (with the hub's
    // buffered ones), then in `chain`; either way they count in the backlog. During the replay only
    // those without a seq are kept (a step taken from the journal on resume, a streamed chunk): the
    // others are read from the journal, or the hub's buffer, in the hand-over.
    let phase: 'replay' | 'hand-over' | 'live' = 'replay';
    const pending: Pending[] = [];
    let chain = Promise.resolve();
    let backlog = 0;
    const receive = (event: LiveEvent): void => {
      if (ended) return;
      if (phase === 'replay' && event.seq !== undefined) return;
      if (backlog >= maxBacklog) {
        drop();
        return;
      }
      backlog++;
      if (phase !== 'live') {
        pending.push({ event, live: true });
        return;
      }
      chain = chain
        .then(() => send(event, true))
        .catch(() => finish())
        .finally(() => {
          backlog--;
        });
    };
    stream.onAbort(end);
    const unwatch = hub.watch(runId, receive);
    try {
      // 1. The journal as it is now, page by page: however far behind the client starts, it holds
      // one page at a time, read once the previous one is written.
      let cursor = afterSeq;
      for (let full = true; full && !ended; ) {
        const page = await store.getEvents(runId, cursor, REPLAY_PAGE);
        for (const event of page) await send(event, false);
        cursor = page.at(-1)?.seq ?? cursor;
        full = page.length >= REPLAY_PAGE;
      }
      if (ended) return; // dropped, or gone

      // 2. The hand-over, as short as the journal has grown since. Every event emitted from now on
      // reaches `pending`. Each earlier one with a seq is in the journal or in the hub's buffer —
      // read before the journal: an event the hub drops after this was journaled first — but for
      // those the hub dropped uncommitted, which the journal is then made to hold.
      phase = 'hand-over';
      for (const event of hub.buffered(runId)) if (event.seq > cursor) pending.push({ event, live: false });
      const dropped = hub.droppedThrough(runId);
      if (dropped > cursor && dropped > (await store.lastEventSeq(runId))) await engine.journalPendingEvents(runId);
      const through = await store.lastEventSeq(runId);
      while (cursor < through && !ended) {
        const page = await store.getEvents(runId, cursor, REPLAY_PAGE);
        if (page.length === 0) break;
        cursor = (page.at(-1) as EventRecord).seq;
        // The waiting events this page's seqs reach go out with it, in seq order.
        const due: Pending[] = page.map((event) => ({ event, live: false }));
        const later: Pending[] = [];
        for (const p of pending.splice(0)) (p.event.seq !== undefined && p.event.seq <= cursor ? due : later).push(p);
        pending.push(...later);
        await sendInOrder(due);
        if (page.length < REPLAY_PAGE) break;
      }
      // Then whatever waits, until nothing does: from then on, events go out as they come.
      while (pending.length > 0 && !ended) await sendInOrder(pending.splice(0));
      phase = 'live';

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
