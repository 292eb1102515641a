// `serve --cluster`: the HTTP API's runs go to the cluster's workers. A submission is created in the
// shared journal and enqueued (as `run --cluster` does); cancel and resume act through the queue:
//
// - cancel: a cancellation key in Redis (runCancelKey) that every worker watches for the runs and
//   chunks it holds, plus the removal of the job when no worker has taken it yet (then the run is
//   marked cancelled in the journal here, at once);
// - resume: the finished job is removed and the run enqueued again with its resume count, so the
//   worker that takes it resumes it from the journal (finished steps and items are not run again).
//
// A run's events come live from its worker through Redis, merged with the journal (RunEventFeed).
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { LoadedPipeline } from '../config/loader.js';
import { Engine, type StartOptions } from '../engine/engine.js';
import { UsageError } from '../errors.js';
import type { Store } from '../journal/store.js';
import type { RemoteRuns } from '../server/server-deps.js';
import { type ClusterConfig, redisConnection } from './connection.js';
import { relayedExecution } from './live-events.js';
import { enqueueRun, RUN_CANCEL_TTL_S, type RunJobData, type RunJobResult, runCancelKey, runsQueue } from './queues.js';
import { RunEventFeed } from './run-event-feed.js';

/** Job states in which a worker has the run, or will take it. */
const LIVE_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

export class ClusterRuns implements RemoteRuns {
  private readonly redis: Redis;
  private readonly queue: Queue<RunJobData, RunJobResult>;
  private readonly engine: Engine;

  constructor(
    private readonly config: ClusterConfig,
    private readonly store: Store,
  ) {
    this.redis = redisConnection(config);
    this.redis.on('error', () => {}); // reconnects on its own; a request in the meantime waits
    this.queue = runsQueue(config, this.redis);
    this.engine = new Engine({ store, cache: false });
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async submit(loaded: LoadedPipeline, options: Omit<StartOptions, 'record' | 'replay'>): Promise<string> {
    const record = await this.engine.create(loaded, {
      ...options,
      metadata: { ...options.metadata, cluster: { prefix: this.config.prefix } },
    });
    // The worker that takes the job reads the run from the journal: it must be there to read.
    await this.store.publish();
    await enqueueRun(this.queue, record.id);
    return record.id;
  }

  async cancel(runId: string): Promise<'cancelled' | 'cancelling' | undefined> {
    const job = await this.queue.getJob(runId);
    const state = job ? await job.getState() : 'missing';
    if (!job || !LIVE_STATES.has(state)) return undefined;
    // The key first: a worker that takes the job from now on sees it before starting the run.
    await this.redis.set(runCancelKey(this.config.prefix, runId), '1', 'EX', RUN_CANCEL_TTL_S);
    if (state !== 'active') {
      const removed = await job.remove().then(
        () => true,
        () => false, // taken meanwhile (locked): its worker sees the key
      );
      if (removed) {
        await this.store.updateRun(runId, { status: 'cancelled', finishedAt: Date.now() });
        return 'cancelled';
      }
    }
    return 'cancelling';
  }

  async resume(runId: string): Promise<void> {
    const record = await this.store.getRun(runId);
    if (!record) throw new UsageError(`no run with id ${runId}`, 'list runs with GET /runs');
    if (record.status === 'succeeded') {
      throw new UsageError(`run ${runId} already succeeded; there is nothing to resume`, 'submit a new run');
    }
    const job = await this.queue.getJob(runId);
    if (job) {
      const state = await job.getState();
      if (LIVE_STATES.has(state)) {
        throw new UsageError(
          `run ${runId} is still ${state === 'active' ? 'running' : 'queued'} on the cluster`,
          'wait for it, or cancel it first',
        );
      }
      await job.remove(); // a finished job of the same id would make the new one a no-op
    }
    await this.redis.del(runCancelKey(this.config.prefix, runId));
    await enqueueRun(this.queue, runId, Number(record.metadata.resumes ?? 0));
  }

  async isLive(runId: string): Promise<boolean> {
    const job = await this.queue.getJob(runId);
    return job !== undefined && LIVE_STATES.has(await job.getState());
  }

  async resumeQueued(runId: string, resumes: number): Promise<boolean> {
    const job = await this.queue.getJob(runId);
    // The job `resume` enqueued, as a worker tells it (worker.ts): its count is still the journal's.
    return job !== undefined && job.data.resumes === resumes && LIVE_STATES.has(await job.getState());
  }

  runningExecution(runId: string): Promise<{ seq: number; at: number } | undefined> {
    return relayedExecution(this.redis, this.config.prefix, runId);
  }

  followEvents(runId: string, afterSeq: number): Promise<RunEventFeed> {
    // A connection per follower: its blocking read of the run's live events holds it.
    const live = { redis: this.redis.duplicate(), prefix: this.config.prefix };
    return RunEventFeed.open({ store: this.store, runId, afterSeq, live });
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.redis.quit().catch(() => {});
  }
}
