// GET /runs/:id/events: a run's events as server-sent events. First the journaled events after
// Last-Event-ID (or `?after=`), then those not yet committed, then live ones; `id:` is the event's
// seq in the run's journal with its execution (routes/event-id.ts), so a client that reconnects
// misses nothing and sees nothing twice — even with an id of an execution that crashed since.
// The journal is read a page at a time, each written to the client before the next is read: a
// client holds at most one page of it in memory, however long the run and however slow the client.
// Events are sent in seq order whatever order they arrive in (routes/event-order.ts): a seq missing
// while later ones are known — a commit of the run still under way — is waited for, and read again
// from the journal. A run restarted after a crash reuses the seqs its crashed execution never
// committed: the ids go back to the new execution's start (EventOrder.restart). The stream ends
// after `pipeline.execution.stop` (or at once for a run not active here).
import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { normalizeRunId } from '../../engine/run-id.js';
import { checkQueryParams } from '../query-params.js';
import type { LiveEvent } from '../run-event-hub.js';
import type { ServerDeps } from '../server-deps.js';
import { type ExecutionMark, formatEventId, parseEventId, type ResumeFrom } from './event-id.js';
import { EventOrder, type Queued } from './event-order.js';
import { eventPayload } from './event-payload.js';
import { agreedSeq, resumedExecution } from './execution-marks.js';
import { polledRunEvents } from './run-events-polled.js';
import { requireRun } from './runs.js';
import { streamFailed } from './stream-failed.js';

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

const START = 'pipeline.execution.start';
const STOP = 'pipeline.execution.stop';

/** While a seq is missing, the journal is read again this often for it (a commit still under way). */
export const HOLE_POLL_MS = 50;
/** A missing seq still not in the journal after this long is given up (a commit that failed). */
export const HOLE_GRACE_MS = 2_000;

export async function runEventsRoute(c: Context, deps: ServerDeps): Promise<Response> {
  const { engine, hub } = deps;
  const { store } = engine;
  const runId = normalizeRunId(c.req.param('id') as string);
  const from = lastEventId(c);
  await requireRun(deps, runId);
  if (deps.remote) return polledRunEvents(c, deps, deps.remote, runId, from);
  /** The run's execution under way here, if any. */
  const current = (): ExecutionMark | undefined => (engine.isActive(runId) ? hub.execution(runId) : undefined);
  const currentThen = current();
  // An id of an execution that crashed since resumes where the client and the journal still agree.
  const afterSeq = await agreedSeq(store, runId, from, currentThen);
  // A client at or past the journal's end has nothing to replay — nor is the journal asked for
  // events after a seq it may not even be able to hold (PostgreSQL's are 32-bit). Read before the
  // stream begins: a journal that cannot be read is a clear error status, not a stream that ends.
  const replay = afterSeq === 0 || afterSeq < (await store.lastEventSeq(runId));
  const firstExecution = await resumedExecution(store, runId, from, afterSeq, currentThen, replay);
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  deps.streams?.add(outgoing);
  const maxStallMs = deps.maxClientStallMs ?? MAX_CLIENT_STALL_MS;
  const maxBacklog = deps.maxClientBacklog ?? MAX_CLIENT_BACKLOG;

  return streamSSE(c, async (stream) => {
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

    // Every event goes through `order`: sent in seq order, each once, none skipped while it may
    // still come. The backlog is the live events that could go out when they came and are not
    // written yet (in `order`, or taken and being written) — not those held for a missing seq: a
    // client is not slow because the run delivered an event late (EventOrder.behind).
    const order = new EventOrder(afterSeq);
    /** Of the events taken from `order`, those that count in the backlog and are not written yet. */
    let unwritten = 0;
    // Only an execution.stop seen live ends the stream (once it is sent): a journaled one may belong
    // to an attempt that was resumed since (a new execution.start follows it).
    let stopSeq: number | undefined;
    // The execution of the events being sent: they go in seq order, each execution's from its start.
    // Unknown (a journal without starts): a plain seq.
    let execution = firstExecution;
    const idOf = ({ seq, type, at }: LiveEvent): string | undefined => {
      if (seq === undefined) return undefined;
      if (type === START) execution = { seq, at };
      return formatEventId(seq, execution);
    };
    const write = async ({ event }: Queued): Promise<void> => {
      writingSince = performance.now();
      const id = idOf(event);
      await stream.writeSSE({
        event: event.type,
        data: JSON.stringify(eventPayload(deps, event)),
        ...(id === undefined ? {} : { id }),
      });
      writingSince = undefined;
    };
    /** Sends what can go out now, in order. Called by one caller at a time (in `chain` once live). */
    const flush = async (): Promise<void> => {
      for (let ready = order.take(); ready.length > 0 && !ended; ready = order.take()) {
        for (const queued of ready) if (queued.counts) unwritten++;
        for (const queued of ready) {
          if (!ended) await write(queued);
          if (queued.counts) unwritten--;
        }
      }
      if (stopSeq !== undefined && order.delivered >= stopSeq) end();
      else watchHole();
    };
    /**
     * Reads the journal after what was sent, a page at a time, each sent (with what waits) before
     * the next is read. A hole in it — a commit of the run still under way, when the run is active
     * here — stops the reading: the hole fills live or with a later read. For a run not active here,
     * nothing will fill it: it is given up.
     */
    const readJournal = async (until = Number.POSITIVE_INFINITY): Promise<void> => {
      while (!ended && order.delivered < until) {
        const page = await store.getEvents(runId, order.delivered, REPLAY_PAGE);
        for (const event of page) order.add(event, false);
        await flush();
        if (order.missing !== undefined && page.length > 0) {
          if (engine.isActive(runId)) return;
          order.skip();
          await flush();
        }
        if (page.length < REPLAY_PAGE) return;
        // A page read from SQLite resolves at once: without a turn of the event loop between pages,
        // replaying a long run held every other request of the server (200 ms for 7,500 events).
        await new Promise((resolve) => setImmediate(resolve));
      }
    };

    // During the replay only live events without a seq are kept (a step taken from the journal on
    // resume): the others are read from the journal, or the hub's buffer, in the hand-over.
    let phase: 'replay' | 'hand-over' | 'live' = 'replay';
    let chain = Promise.resolve();
    /** A failure once live (the journal unreadable mid-stream): logged, and the stream ends. */
    let failure: unknown;
    const failed = (error: unknown): void => {
      failure ??= error;
      finish();
    };
    const later = (work: () => Promise<void>): void => {
      chain = chain.then(work).catch(failed);
    };
    const receive = (event: LiveEvent): void => {
      if (ended) return;
      // A new execution (a restart after a crash, a resume): what an earlier one sent at its seqs
      // and later is void — in every phase, the replay's included (the hub's events of the crashed
      // execution are not read after this).
      if (event.type === START && event.seq !== undefined) order.restart(event.seq);
      if (phase === 'replay' && event.seq !== undefined) return;
      if (event.type === STOP && event.seq !== undefined) stopSeq = event.seq;
      if (order.behind + unwritten >= maxBacklog) {
        drop();
        return;
      }
      // Without a seq: its place is after the last event the run has journaled (or buffered) so far.
      const after = event.seq === undefined ? (engine.lastEventSeq(runId) ?? order.delivered) : undefined;
      order.add(event, true, after);
      // Before the live phase, the stream's own flushes send it; the stop too: ended here, a batch
      // being written that holds it would be cut short (the stop read from the journal, unwritten).
      if (phase === 'live') later(flush);
    };
    // While a seq is missing, the journal is read again for it now and then; given up after a while.
    let holeSince: number | undefined;
    let holeTimer: NodeJS.Timeout | undefined;
    const fillHole = async (): Promise<void> => {
      holeTimer = undefined;
      if (ended || order.missing === undefined) {
        holeSince = undefined;
        return;
      }
      const missing = order.missing;
      await readJournal(missing);
      if (order.missing === missing) {
        holeSince ??= performance.now();
        if (performance.now() - holeSince > HOLE_GRACE_MS || !engine.isActive(runId)) {
          order.skip();
          await flush();
        }
      } else holeSince = undefined;
      watchHole();
    };
    const watchHole = (): void => {
      if (phase !== 'live' || ended || holeTimer !== undefined || order.missing === undefined) return;
      holeTimer = setTimeout(() => later(fillHole), HOLE_POLL_MS);
    };

    stream.onAbort(end);
    // The response's pipe tells of a client that goes away (onAbort) — but not of one gone before
    // the stream began, while the run and the journal were read: that pipe never starts, and the
    // stream would watch the run, unseen, for as long as the run lasts.
    outgoing?.once('close', drop);
    if (outgoing?.closed) drop();
    const unwatch = hub.watch(runId, receive);
    // An execution that started after the client's id was resolved and before this watch: its
    // start was not received, and what the client has from its seq on is void all the same.
    const currentNow = current();
    if (currentNow !== undefined && (currentNow.seq !== currentThen?.seq || currentNow.at !== currentThen.at))
      order.restart(currentNow.seq);
    try {
      // 1. The journal as it is now, page by page: however far behind the client starts, it holds
      // one page at a time, read once the previous one is written.
      if (replay) await readJournal();
      if (ended) return; // dropped, or gone

      // 2. The hand-over, as short as the journal has grown since. Every event emitted from now on
      // reaches `order`. Each earlier one with a seq is in the journal, in a commit under way, or
      // in the hub's buffer — read before the journal: an event the hub drops after this was handed
      // to a commit first — but for those the hub dropped uncommitted, which the journal is then
      // made to hold.
      phase = 'hand-over';
      for (const event of hub.buffered(runId)) order.add(event, false);
      const dropped = hub.droppedThrough(runId);
      if (dropped > order.delivered && dropped > (await store.lastEventSeq(runId))) {
        await engine.journalPendingEvents(runId);
      }
      const through = await store.lastEventSeq(runId);
      await readJournal(through);
      await flush();
      phase = 'live';
      if (ended) return;

      // 3. Live: events go out as they come, in order.
      later(flush);
      watchHole();
      // A run no longer (or not) running in this process will send nothing more: what it left in
      // the journal past a hole is sent, then the stream ends.
      const settled = () => {
        if (engine.isActive(runId)) return;
        later(async () => {
          if (order.holding) {
            await readJournal();
            order.skip();
            await flush();
          }
          finish();
        });
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
      clearTimeout(holeTimer);
      await chain;
      if (failure !== undefined) throw failure;
    } catch (error) {
      // The response began (200) long ago: the client sees the stream end, and reconnects with
      // Last-Event-ID; the server log says why — never an unhandled error and its bare stack.
      if (!ended) streamFailed(deps, c, runId, error);
    } finally {
      ended = true;
      clearInterval(stalled);
      clearTimeout(holeTimer);
      unwatch();
      outgoing?.off('close', drop);
    }
  });
}

function lastEventId(c: Context): ResumeFrom {
  checkQueryParams(c, ['after'], 'GET /runs/ID/events?after=7');
  return parseEventId(c.req.header('last-event-id') ?? c.req.query('after') ?? '0');
}
