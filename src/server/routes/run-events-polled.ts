// GET /runs/:id/events under `serve --cluster`: the run executes on a worker, so its events come from
// the shared journal only — replayed after Last-Event-ID, then polled for new ones (as the CLI
// follower of `run --cluster` does). The `id:` of each event is its journal seq, as in local mode, so
// a client that reconnects misses nothing. The price is latency: events reach the journal with each
// step commit (and each group of batch items). The stream ends once the run is over.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { RemoteRuns, ServerDeps } from '../server-deps.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const PAGE = 500;
const POLL_MS = 200;
/** After the journal says the run ended, how long to wait for its last events at most. */
const SETTLE_MS = 2_000;
/** The queue is asked every this many polls whether a non-final run may still move. */
const QUEUE_EVERY = 5;

export function polledRunEvents(
  c: Context,
  deps: ServerDeps,
  remote: RemoteRuns,
  runId: string,
  afterSeq: number,
): Response {
  const { store } = deps.engine;
  return streamSSE(c, async (stream) => {
    let aborted = false;
    stream.onAbort(() => {
      aborted = true;
    });
    let lastSent = afterSeq;
    let stopSeen = false;
    let endedAt: number | undefined;
    let lastWrite = Date.now();
    for (let tick = 0; !aborted; tick++) {
      const events = await store.getEvents(runId, lastSent, PAGE);
      for (const event of events) {
        lastSent = event.seq;
        // A journaled stop may belong to an attempt that was resumed since: a start follows it.
        if (event.type === 'pipeline.execution.start') stopSeen = false;
        if (event.type === 'pipeline.execution.stop') stopSeen = true;
        const payload = { seq: event.seq, type: event.type, at: event.at, data: event.data };
        await stream.writeSSE({ event: event.type, data: deps.redact(JSON.stringify(payload)), id: String(event.seq) });
        lastWrite = Date.now();
      }
      if (events.length === PAGE) continue;

      const run = await store.getRun(runId);
      if (run && FINAL.has(run.status)) {
        endedAt ??= Date.now();
        if (stopSeen || Date.now() - endedAt > SETTLE_MS) break;
      } else if (tick % QUEUE_EVERY === 0 && !(await remote.isLive(runId))) {
        // Interrupted or lost and not queued: nothing will write to it until someone resumes it.
        if (tick > 0) break;
      }
      if (Date.now() - lastWrite > (deps.keepAliveMs ?? 15_000)) {
        await stream.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
      await sleep(POLL_MS);
    }
  });
}
