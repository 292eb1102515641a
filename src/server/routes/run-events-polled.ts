// GET /runs/:id/events under `serve --cluster`: the run executes on a worker, so its events come
// from the cluster (RemoteRuns.followEvents): the journal's after Last-Event-ID, merged with those
// the worker relays live through Redis — a streaming step's tokens arrive as they are produced.
// The `id:` of each event is its journal seq with its execution (`SEQ@START-AT`, routes/event-id.ts),
// as in local mode, so a client that reconnects misses nothing — even with an id of an execution
// that died since, on a worker, with events it had sent live but never journaled: the stream goes
// on where the client and the journal agree (execution-marks.ts). An id of the execution a worker
// runs now is taken at its word, as a local server takes one of its own: the worker's relay names
// that execution (RemoteRuns.runningExecution). Events the journal does not keep (a step taken
// from it on resume) come without `id:`.
// The stream ends once the run is over — not while a resume of it waits in the queue: until a
// worker takes it, the journal still tells how the run's last execution ended (its final status,
// its execution.stop), and the stream follows on into the resumed execution.
import type { Context } from 'hono';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import { claimOf } from '../../journal/run-fence.js';
import type { RemoteRuns, ServerDeps } from '../server-deps.js';
import { type ExecutionMark, formatEventId, type ResumeFrom } from './event-id.js';
import { eventPayload } from './event-payload.js';
import { agreedSeq, resumedExecution } from './execution-marks.js';
import { streamFailed } from './stream-failed.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
/** How often the run's state is looked at (its events do not wait for it). */
const POLL_MS = 200;
/** After the journal says the run ended, how long to wait for its last events at most. */
const SETTLE_MS = 2_000;
/** The queue is asked every this many polls whether a run may still move (a final one: at once, then so). */
const QUEUE_EVERY = 5;

const START = 'pipeline.execution.start';

export async function polledRunEvents(
  c: Context,
  deps: ServerDeps,
  remote: RemoteRuns,
  runId: string,
  from: ResumeFrom,
): Promise<Response> {
  const { store } = deps.engine;
  // Read before the stream begins: a journal that cannot be read is a clear error status. The
  // worker's execution is asked only of a client that comes back (one from the start needs none).
  const running = from.seq > 0 ? await remote.runningExecution?.(runId) : undefined;
  const afterSeq = await agreedSeq(store, runId, from, running);
  // The execution of the first event sent; each start sent after it names the next one.
  let execution: ExecutionMark | undefined = await resumedExecution(store, runId, from, afterSeq, running, true);
  const idOf = (seq: number | undefined, type: string, at: number): string | undefined => {
    if (seq === undefined) return undefined;
    if (type === START) execution = { seq, at };
    return formatEventId(seq, execution);
  };
  return streamSSE(c, async (stream) => {
    try {
      await follow(stream);
    } catch (error) {
      // Begun (200): the stream ends, and the log says why — never an unhandled error.
      streamFailed(deps, c, runId, error);
    }
  });

  async function follow(stream: SSEStreamingApi): Promise<void> {
    const feed = await remote.followEvents(runId, afterSeq);
    let aborted = false;
    stream.onAbort(() => {
      aborted = true;
      feed.close();
    });
    let stopSeen = false;
    let endedAt: number | undefined;
    /** What the queue last said of a resume of the run, for the journal's resume count then. */
    let asked: { resumes: number; tick: number; queued: boolean } | undefined;
    let lastWrite = Date.now();
    let checkedAt = 0;
    try {
      for (let tick = 0; !aborted; ) {
        for (const event of await feed.next(POLL_MS)) {
          // A stop may belong to an execution that is resumed since: a start follows it.
          if (event.type === START) stopSeen = false;
          if (event.type === 'pipeline.execution.stop') stopSeen = true;
          // The feed goes back to a new execution's start when one replaces events it sent (a worker
          // died): the ids go back with it, naming that execution.
          const id = idOf(event.seq, event.type, event.at);
          await stream.writeSSE({
            event: event.type,
            data: JSON.stringify(eventPayload(deps, event)),
            ...(id === undefined ? {} : { id }),
          });
          lastWrite = Date.now();
        }
        if (Date.now() - checkedAt < POLL_MS) continue;
        checkedAt = Date.now();

        const run = await store.getRun(runId);
        if (run && FINAL.has(run.status)) {
          // Asked at once when the row turns final (or its resume count moves): a finished run's
          // stream ends promptly; while a resume waits, the queue is asked again every few polls.
          const resumes = claimOf(run.metadata);
          if (asked?.resumes !== resumes || tick - asked.tick >= QUEUE_EVERY) {
            asked = { resumes, tick, queued: await remote.resumeQueued(runId, resumes) };
          }
          if (asked.queued) {
            // Resumed since its last execution ended: the stop seen is that execution's; the
            // resumed one's start and stop are still to come.
            stopSeen = false;
            endedAt = undefined;
          } else {
            endedAt ??= Date.now();
            if (stopSeen || Date.now() - endedAt > SETTLE_MS) break;
          }
        } else if (tick % QUEUE_EVERY === 0 && !(await remote.isLive(runId))) {
          // Interrupted or lost and not queued: nothing will write to it until someone resumes it.
          if (tick > 0) break;
        }
        tick++;
        if (Date.now() - lastWrite > (deps.keepAliveMs ?? 15_000)) {
          await stream.write(': keep-alive\n\n');
          lastWrite = Date.now();
        }
      }
    } finally {
      feed.close();
    }
  }
}
