// Follows a run that a worker runs: its events come live from the worker through Redis, merged with
// the shared journal's events table (polled; durable, so nothing is missed across a worker crash
// or a Redis restart) — see RunEventFeed — and are re-emitted on a local EventBus, where the same
// progress printer as a local run listens: a streaming step's tokens print as they come.
//
// A run that changes worker (a crash, a drain) starts again from the journal and says so again;
// those repeats are dropped here, so the terminal reads as one run: one "running" line, each step once.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Store } from '../journal/store.js';
import type { EventBus } from '../telemetry/event-bus.js';
import type { EventType } from '../telemetry/events.js';
import type { RunJobData, RunJobResult } from './queues.js';
import { RunEventFeed } from './run-event-feed.js';

export interface FollowOptions {
  store: Store;
  queue: Queue<RunJobData, RunJobResult>;
  runId: string;
  bus: EventBus;
  /** Live events: a connection of the follower's own (closed at the end) and the cluster's prefix. */
  live?: { redis: Redis; prefix: string };
  /** How often the run's state is looked at (and, without `live`, the journal read). */
  pollMs?: number;
  signal?: AbortSignal;
}

export interface FollowOutcome {
  /** The job's last known state: completed, failed, missing (removed, or Redis lost it) … */
  jobState: string;
  /** Why the queue gave up on the job (jobState `failed`). */
  failedReason?: string;
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
/** After the journal says the run ended, how long to wait for its last events at most. */
const SETTLE_MS = 2_000;

export async function followRun(options: FollowOptions): Promise<FollowOutcome> {
  const { store, queue, runId, bus } = options;
  const pollMs = options.pollMs ?? 100;
  const printedSteps = new Set<string>();
  let started = false;
  let stopSeen = false;
  let endedAt: number | undefined;
  let job: FollowOutcome = { jobState: 'waiting' };
  const feed = await RunEventFeed.open({
    store,
    runId,
    ...(options.live ? { live: options.live } : { journalPollMs: pollMs }),
  });
  const onAbort = () => feed.close();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    let checkedAt = 0;
    for (let tick = 0; !options.signal?.aborted; ) {
      for (const event of await feed.next(pollMs)) {
        const data = event.data;
        if (event.type === 'pipeline.execution.start') {
          stopSeen = false;
          if (started) continue;
          started = true;
        }
        if (event.type === 'pipeline.execution.stop') stopSeen = true;
        if (event.type === 'pipeline.step.stop') {
          const step = String(data.step);
          if (data.fromJournal === true && printedSteps.has(step)) continue;
          printedSteps.add(step);
        }
        bus.emit(event.type as EventType, data as never);
      }
      // Live events come as they please; the run's state is looked at on the poll's pace.
      if (Date.now() - checkedAt < pollMs) continue;
      checkedAt = Date.now();

      // The queue is asked less often than the journal: it only matters at the end.
      if (tick++ % 5 === 0) job = await jobOutcome(queue, runId);
      const run = await store.getRun(runId);
      const ended = run !== undefined && FINAL.has(run.status);
      if (ended) endedAt ??= Date.now();
      if (ended && (stopSeen || Date.now() - (endedAt ?? 0) > SETTLE_MS)) {
        return job;
      }
      if (job.jobState === 'failed') return job;
      if ((job.jobState === 'completed' || job.jobState === 'missing') && !ended && run?.status !== 'running')
        return job;
    }
    return job;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    feed.close();
  }
}

async function jobOutcome(queue: Queue<RunJobData, RunJobResult>, runId: string): Promise<FollowOutcome> {
  try {
    const job = await queue.getJob(runId);
    if (!job) return { jobState: 'missing' };
    const state = await job.getState();
    return { jobState: state, ...(job.failedReason ? { failedReason: job.failedReason } : {}) };
  } catch {
    return { jobState: 'unknown' }; // Redis away for a moment: the journal still tells the story
  }
}
