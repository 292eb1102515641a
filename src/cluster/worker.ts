// A cluster worker: pulls runs from the `runs` queue (least loaded wins by construction: a worker
// asks for a job only when it has a free slot) and runs each from the shared journal, as a resume.
// A run that another worker was running when it died is found stalled by BullMQ and lands here the
// same way: finished steps and items come from the journal, not from a second call.
import { hostname } from 'node:os';
import { DelayedError, type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { Engine, type RunHandle } from '../engine/engine.js';
import { RunStillRunningError } from '../engine/errors.js';
import { settleWithin } from '../engine/settle-within.js';
import { attachRemoteBatch } from '../engine/steps/batch-remote.js';
import { REDIS_TIMEOUT_MS } from '../health/health.js';
import { type TimedCheck, timedCheck } from '../health/timed-check.js';
import { claimOf } from '../journal/run-fence.js';
import type { RunRecord, Store } from '../journal/store.js';
import { GateRegistry } from '../resilience/gate-registry.js';
import { EventBus } from '../telemetry/event-bus.js';
import type { Logger } from '../telemetry/logger.js';
import { attachMetrics, type Metrics } from '../telemetry/metrics.js';
import { type MetricsServer, startMetricsServer } from '../telemetry/metrics-server.js';
import { createRedactor, type Redactor } from '../telemetry/redact.js';
import type { Tracing } from '../telemetry/tracing.js';
import { BatchFanOut, DEFAULT_CHUNK_SIZE } from './batch-fanout.js';
import { BATCHES_QUEUE, type BatchJobData, type BatchJobResult } from './batch-flow.js';
import { ChunkStats, forgetChunkStats } from './chunk-stats.js';
import { type ClusterConfig, redisConnection } from './connection.js';
import { EventRelay } from './event-relay.js';
import { Heartbeat, workerId } from './heartbeat.js';
import {
  batchCancelKey,
  ITEMS_QUEUE,
  type ItemChunkData,
  type ItemChunkResult,
  sumChunkResults,
} from './item-queue.js';
import { runItemChunk } from './item-runner.js';
import { JobOwnership } from './job-ownership.js';
import { journalAway } from './journal-away.js';
import { endOrphanedRun } from './orphaned-run.js';
import { RUNS_QUEUE, type RunJobData, type RunJobResult, runCancelKey } from './queues.js';
import { SharedBudgets } from './shared-budgets.js';
import { SharedGates } from './shared-gates.js';
import { SharedRateLimits } from './shared-rate-limits.js';
import { type ClusterTiming, clusterTiming } from './timing.js';
import { attachWorkerTelemetry, type WorkerTelemetry } from './worker-telemetry.js';

export interface ClusterWorkerOptions {
  config: ClusterConfig;
  store: Store;
  env: NodeJS.ProcessEnv;
  /** Runs at once on this worker. */
  concurrency: number;
  /** Chunks of batch items at once on this worker (default: as many as runs). */
  itemConcurrency?: number;
  /** Items per child job of a batch spread over the cluster. */
  chunkSize?: number;
  timing?: ClusterTiming;
  /** One line per notable thing (a run taken, finished, a drain); also logged to `logger` at info. */
  log?: (line: string) => void;
  /**
   * Serve GET /metrics (this worker's runs, steps, tokens, costs, gates, and its batch chunks'
   * calls) and GET /health on this port (0 picks a free one), from start() until the worker has
   * drained. Prometheus scrapes every worker: no other process sees what a worker runs.
   */
  metrics?: { port: number; host?: string; token?: string };
  /** The JSON run log: a line per event of this worker's runs, and of its batch chunks' calls. */
  logger?: Logger;
  /** Spans of this worker's runs, steps and calls; shut down (flushed) once the worker has drained. */
  tracing?: Tracing;
}

/** What GET /health of a worker's metrics endpoint reports. */
export interface WorkerHealth {
  /** `unhealthy` (503) when Redis does not answer; `draining` after SIGTERM, until it exits. */
  status: 'healthy' | 'draining' | 'unhealthy';
  worker: { id: string; concurrency: number; activeRuns: number; activeChunks: number; draining: boolean };
  /** Redis asked a PING, bounded by REDIS_TIMEOUT_MS (as serve's own health check asks it). */
  checks: { redis: TimedCheck };
  timestamp: string;
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
/** How often a worker looks for cancellations of the runs it holds. */
const CANCEL_POLL_MS = 500;
/** Parents of batch flows at once: their processor only adds up their chunks' stats. */
const BATCH_CONCURRENCY = 4;
/** How long a job waits when the journal cannot be reached (at most; the lock period if shorter). */
const JOURNAL_RETRY_MS = 5_000;
/**
 * How long a drain waits for a Redis that does not answer (down, unreachable) before it closes
 * without it: its hand-backs and BullMQ's close would otherwise wait for a reconnection forever.
 */
export const DRAIN_REDIS_WAIT_MS = 3_000;

function chunkSizeFrom(env: NodeJS.ProcessEnv): number {
  const n = Number(env.ELEXIRION_CLUSTER_CHUNK);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_CHUNK_SIZE;
}

export class ClusterWorker {
  readonly id = workerId();
  readonly engine: Engine;
  private readonly redis: Redis;
  private readonly gates: SharedGates;
  private readonly budgets: SharedBudgets;
  private readonly runs: Worker<RunJobData, RunJobResult>;
  private readonly items: Worker<ItemChunkData, ItemChunkResult>;
  /** Parents of batch flows whose chunks have all ended. */
  private readonly batches: Worker<BatchJobData, BatchJobResult>;
  private readonly fanOut: BatchFanOut;
  private readonly heartbeat: Heartbeat;
  private readonly active = new Map<string, RunHandle>();
  /** The executions of runs given up here (their job lock lost): they end without ending their job. */
  private readonly lostRuns = new WeakSet<RunHandle>();
  /** Chunks in flight, by job id: aborted on a drain. */
  private readonly chunks = new Map<string, AbortController>();
  /** The same chunks' outcomes, for a delivery of a chunk job that runs here already. */
  private readonly chunkResults = new Map<string, Promise<ItemChunkResult>>();
  /** Every job being processed here (runs, chunks, batches): a drain waits for them to end. */
  private readonly processing = new Set<Promise<unknown>>();
  private readonly ownership: JobOwnership;
  private readonly journalRetryMs: number;
  /** How long a run job whose owner still runs the run waits before asking again. */
  private readonly ownerRetryMs: number;
  private readonly detachBatch: () => void;
  private readonly detachRelay: () => void;
  /** The run log and the tracing: closed (the last spans flushed) once the worker has drained. */
  private readonly telemetry: WorkerTelemetry;
  /** What leaves the worker in Redis or the journal from an error's text: no secret (redact.ts). */
  private readonly redact: Redactor;
  private readonly cancelWatch: NodeJS.Timeout;
  private readonly freezeWatch: NodeJS.Timeout;
  /** When the freeze watch last ran (Date.now()), and how long a gap after it means a lost lock. */
  private lastTick = Date.now();
  private readonly lockMs: number;
  /**
   * Where batch chunks' items publish their events: not the engine's bus, whose events are the
   * run's stream (the relay) — the run's worker reports a batch's progress — but counted by metrics.
   */
  private readonly itemBus = new EventBus();
  /** With `options.metrics`: this worker's metrics, and the endpoint that serves them. */
  readonly metrics?: Metrics;
  private metricsServer?: MetricsServer;
  private draining = false;
  /** Aborted when the drain begins: a job waiting to be started is handed back instead. */
  private readonly drainStarted = new AbortController();
  private closed?: Promise<void>;

  constructor(private readonly options: ClusterWorkerOptions) {
    const timing = options.timing ?? clusterTiming(options.env);
    this.journalRetryMs = Math.min(JOURNAL_RETRY_MS, timing.lockMs);
    this.ownerRetryMs = timing.lockMs;
    const { config } = options;
    this.redis = redisConnection(config);
    this.redis.on('error', () => {}); // ioredis reconnects; BullMQ reports what matters
    const bus = new EventBus();
    this.gates = new SharedGates(this.redis, config.prefix, timing.leaseMs);
    this.budgets = new SharedBudgets(this.redis, config.prefix, timing.leaseMs);
    this.engine = new Engine({
      store: options.store,
      bus,
      gates: new GateRegistry(
        bus,
        {},
        this.gates.factory,
        new SharedRateLimits(this.redis, config.prefix, timing.rateWindowMs).factory,
      ),
      env: options.env,
      budgets: this.budgets.factory,
    });
    // The engine's runs, steps, calls and gates, and the calls of this worker's batch chunks.
    if (options.metrics) this.metrics = attachMetrics(this.engine, { alsoFrom: [this.itemBus] });
    // After the engine: its own subscriber gives each event the seq the relay publishes it with.
    this.redact = createRedactor(options.env);
    this.detachRelay = new EventRelay(this.redis, config.prefix, this.engine, this.redact).attach(bus);
    this.telemetry = attachWorkerTelemetry({
      runs: bus,
      items: this.itemBus,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.tracing ? { tracing: options.tracing } : {}),
      redact: this.redact,
      flushMs: DRAIN_REDIS_WAIT_MS,
    });
    this.runs = new Worker<RunJobData, RunJobResult>(
      RUNS_QUEUE,
      (job, token) => this.processed(this.processRun(job, token)),
      {
        connection: this.redis,
        prefix: config.prefix,
        name: this.id, // job.processedBy: which worker took it
        concurrency: options.concurrency,
        lockDuration: timing.lockMs,
        stalledInterval: timing.stalledIntervalMs,
        maxStalledCount: 2,
        autorun: false,
      },
    );
    this.runs.on('error', (error) => this.log(`queue error: ${error.message}`));
    // Likewise a run whose lock this worker lost: another worker may run it already, from the
    // journal. Going on beside it would pay for its steps twice and interleave two executions'
    // commits; it stops, and journals nothing more (the journal's fence refuses what was under way).
    this.runs.on('lockRenewalFailed', (jobIds) => {
      for (const id of jobIds) this.loseRun(id, 'its lock could not be renewed');
    });
    // A run job failed for good (finished: no retry left) is taken by no worker again. Its run may
    // still be `running` in the journal — given up by every worker that held it — and nobody else
    // would end it. Counted as processing: a drain waits for its end to be journaled.
    this.runs.on('failed', (job, error) => {
      if (job?.finishedOn) void this.processed(this.endOrphaned(job.data.runId, this.redact(error.message)));
    });
    this.fanOut = new BatchFanOut(
      options.store,
      this.redis,
      config.prefix,
      options.chunkSize ?? chunkSizeFrom(options.env),
      this.telemetry.traceparent,
    );
    this.detachBatch = attachRemoteBatch(bus, this.fanOut);
    this.items = new Worker<ItemChunkData, ItemChunkResult>(
      ITEMS_QUEUE,
      (job, token) => this.processed(this.processChunk(job, token)),
      {
        connection: this.redis,
        prefix: config.prefix,
        name: this.id,
        concurrency: options.itemConcurrency ?? options.concurrency,
        lockDuration: timing.lockMs,
        stalledInterval: timing.stalledIntervalMs,
        maxStalledCount: 2,
        autorun: false,
      },
    );
    this.items.on('error', (error) => this.log(`queue error: ${error.message}`));
    // A chunk whose lock this worker lost (BullMQ gives it to another worker) stops here: starting
    // its next items would pay for them twice. Only the calls in flight at that moment may repeat.
    this.items.on('lockRenewalFailed', (jobIds) => {
      for (const id of jobIds) this.loseChunk(id, 'its lock could not be renewed');
    });
    this.batches = new Worker<BatchJobData, BatchJobResult>(
      BATCHES_QUEUE,
      (job) => this.processed(this.processBatch(job)),
      {
        connection: this.redis,
        prefix: config.prefix,
        name: this.id,
        concurrency: BATCH_CONCURRENCY,
        lockDuration: timing.lockMs,
        stalledInterval: timing.stalledIntervalMs,
        maxStalledCount: 2,
        autorun: false,
      },
    );
    this.batches.on('error', (error) => this.log(`queue error: ${error.message}`));
    this.heartbeat = new Heartbeat(
      this.redis,
      config.prefix,
      this.id,
      () => ({
        concurrency: options.concurrency,
        activeRuns: this.active.size,
        activeItems: this.chunks.size,
        draining: this.draining,
        holds: [...this.active.keys(), ...this.chunks.keys()],
      }),
      timing.heartbeatMs,
    );
    this.ownership = new JobOwnership(this.redis, config.prefix, this.id, timing.heartbeatMs);
    this.cancelWatch = setInterval(() => void this.stopCancelledRuns(), CANCEL_POLL_MS);
    this.cancelWatch.unref();
    // A frozen process (a paused VM, a throttled container, a long pause) renews no lock: once it
    // runs again its runs and chunks may already be another worker's — before BullMQ says so, which
    // takes a round trip. A gap in this clock longer than a lock lives gives every one up at once.
    this.lockMs = timing.lockMs;
    this.freezeWatch = setInterval(
      () => {
        this.givenUpIfFrozen();
        this.lastTick = Date.now();
      },
      Math.max(10, Math.floor(timing.lockMs / 4)),
    );
    this.freezeWatch.unref();
  }

  /**
   * Starts pulling jobs; resolves once the worker is connected and has said it is alive. A journal
   * that cannot be used (unreachable, bad credentials, a newer schema) fails the start with its
   * clear error: a worker that took jobs without one would fail every run it took.
   */
  async start(): Promise<void> {
    await this.options.store.migrate();
    // Before the first job: a port that cannot be had fails the start, not a scrape later.
    if (this.metrics && this.options.metrics && !this.metricsServer) {
      const { port, host, token } = this.options.metrics;
      this.metricsServer = await startMetricsServer({
        metrics: this.metrics,
        health: async () => {
          const report = await this.health();
          return { ok: report.status !== 'unhealthy', body: { ...report } };
        },
        port,
        ...(host === undefined ? {} : { host }),
        ...(token === undefined ? {} : { token }),
      });
      this.log(`metrics on ${this.metricsServer.url}/metrics, health on ${this.metricsServer.url}/health`);
    }
    await this.heartbeat.beat();
    void this.runs.run().catch((error: unknown) => this.log(`worker stopped: ${String(error)}`));
    void this.items.run().catch((error: unknown) => this.log(`item worker stopped: ${String(error)}`));
    void this.batches.run().catch((error: unknown) => this.log(`batch worker stopped: ${String(error)}`));
    await Promise.all([this.runs.waitUntilReady(), this.items.waitUntilReady(), this.batches.waitUntilReady()]);
    this.log(`worker ${this.id} ready (concurrency ${this.options.concurrency}, prefix ${this.options.config.prefix})`);
  }

  /** The URL of the metrics endpoint once start() has opened it (`options.metrics`). */
  get metricsUrl(): string | undefined {
    return this.metricsServer?.url;
  }

  /** Liveness: this worker's state, and whether Redis answers a PING (within a second). */
  async health(): Promise<WorkerHealth> {
    const redis = await timedCheck(() => this.redis.ping(), REDIS_TIMEOUT_MS, 'Redis');
    return {
      status: redis.status === 'fail' ? 'unhealthy' : this.draining ? 'draining' : 'healthy',
      worker: {
        id: this.id,
        concurrency: this.options.concurrency,
        activeRuns: this.engine.activeRuns,
        activeChunks: this.chunks.size,
        draining: this.draining,
      },
      checks: { redis },
      timestamp: new Date().toISOString(),
    };
  }

  /**
   * SIGTERM: take no more jobs, interrupt the runs in flight to a resumable state (what finished is
   * in the journal), hand their jobs back to the queue for another worker, then close.
   */
  drain(): Promise<void> {
    this.closed ??= (async () => {
      this.draining = true;
      this.drainStarted.abort();
      this.log(`draining: ${this.active.size} run(s) in flight go back to the queue`);
      const workers = [this.runs, this.items, this.batches];
      // No job is fetched any more (one fetched meanwhile is handed back: `draining`).
      for (const worker of workers) void worker.pause(true).catch(() => {});
      this.engine.stopAll('interrupted');
      for (const chunk of this.chunks.values()) chunk.abort(new Error('worker draining'));
      // Every Redis command waits for a reconnection (maxRetriesPerRequest: null), BullMQ's graceful
      // close too: with Redis away, a drain would never end, and the orchestrator would SIGKILL the
      // worker. So the drain waits for Redis a few seconds at most. The jobs in flight end first
      // (handed back); BullMQ's graceful close — which finishes their jobs in Redis — is started only
      // then, and only with Redis there: it cannot be forced once begun. Without Redis, the worker
      // closes without it: the runs it interrupted are journaled as such, and their jobs, not handed
      // back, are found stalled once Redis is back and resumed elsewhere, like a dead worker's.
      let away = !(await this.settlesUnlessRedisAway(this.jobsEnded()));
      if (!away) away = !(await this.settlesUnlessRedisAway(Promise.all(workers.map(closeWhenConnected))));
      if (away) {
        this.log(`draining: Redis did not answer for ${DRAIN_REDIS_WAIT_MS} ms; closing without it`);
        // The shared connection first: what waits on it now fails, or waits on nothing.
        this.redis.disconnect();
        await Promise.all(workers.map((worker) => settleWithin(worker.close(true), DRAIN_REDIS_WAIT_MS)));
        await settleWithin(this.engine.drain(), DRAIN_REDIS_WAIT_MS);
      }
      await this.shutdown(away);
    })();
    return this.closed;
  }

  /** Resolves once no job is being processed here (those that start meanwhile included). */
  private async jobsEnded(): Promise<void> {
    while (this.processing.size > 0) await Promise.allSettled([...this.processing]);
  }

  /** `work`, a job's processing, counted in `processing` until it settles. */
  private processed<T>(work: Promise<T>): Promise<T> {
    this.processing.add(work);
    const forget = () => this.processing.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Whether `work` settled; false as soon as Redis has not been connected for DRAIN_REDIS_WAIT_MS. */
  private async settlesUnlessRedisAway(work: Promise<unknown>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const gone = new Promise<false>((done) => {
      let awaySince: number | undefined;
      timer = setInterval(() => {
        const now = Date.now();
        if (this.redis.status === 'ready') awaySince = undefined;
        else awaySince ??= now;
        if (awaySince !== undefined && now - awaySince >= DRAIN_REDIS_WAIT_MS) done(false);
      }, 100);
    });
    try {
      return await Promise.race([work.then(() => true), gone]);
    } finally {
      clearInterval(timer);
    }
  }

  private async shutdown(redisAway = false): Promise<void> {
    clearInterval(this.cancelWatch);
    clearInterval(this.freezeWatch);
    this.gates.close();
    this.budgets.close();
    this.detachBatch();
    this.detachRelay();
    if (redisAway) {
      // Nothing to wait for: the heartbeat's key expires by itself (three beats).
      this.heartbeat.stop(false);
      void this.fanOut.close().catch(() => {});
    } else {
      await this.fanOut.close();
      await this.heartbeat.stop();
      await this.redis.quit().catch(() => {});
    }
    // The runs have ended (their last spans too): those still to export go now.
    await this.telemetry.close();
    // Last: what the drain did is scraped until the worker is gone.
    await this.metricsServer?.close();
    this.metrics?.detach();
  }

  private async processRun(job: Job<RunJobData, RunJobResult>, token?: string): Promise<RunJobResult> {
    try {
      return await this.takeRun(job, token);
    } catch (error) {
      return this.unlessJournalAway(job, token, error);
    }
  }

  private async takeRun(job: Job<RunJobData, RunJobResult>, token?: string): Promise<RunJobResult> {
    const { runId } = job.data;
    // Handed out again while it runs here (its lock expired during a Redis outage): this delivery,
    // which holds the lock now, ends with the run instead of starting it a second time — unless that
    // execution was given up (the lock it lost is this one): then this delivery runs the run.
    const running = this.active.get(runId);
    if (running) {
      const result = await running.result.catch((error: unknown) => {
        if (this.lostRuns.has(running)) return undefined;
        throw error;
      });
      if (result && !this.lostRuns.has(running)) return this.ended(job, token, result.status);
    }
    if (job.attemptsStarted > 1) await this.ownership.waitWhileHeldElsewhere(runId, this.drainStarted.signal);
    // Taken as the drain began (or while it waited above): another worker runs it, not this one.
    if (this.draining) return this.handBack(job, token);
    const record = await this.options.store.getRun(runId);
    if (!record) throw new UnrecoverableError(`run ${runId} is not in the journal (another --db?)`);
    // Delivered again after its worker finished it but died before saying so — unless it was
    // enqueued again to be resumed and nobody has taken that resume yet.
    const resumeAsked = job.data.resumes !== undefined && claimOf(record.metadata) === job.data.resumes;
    if (FINAL.has(record.status) && !resumeAsked) return { status: record.status };
    if ((await this.redis.exists(runCancelKey(this.options.config.prefix, runId))) === 1) {
      await this.options.store.updateRun(runId, { status: 'cancelled', finishedAt: Date.now() });
      this.log(`run ${runId} cancelled before it started`);
      return { status: 'cancelled' };
    }
    if (this.draining) return this.handBack(job, token);
    let handle: RunHandle;
    try {
      handle = await this.resume(record);
    } catch (error) {
      // Its owner on this host still runs it (alive, if frozen past its lock for a while): not a
      // failed attempt — the job waits and asks again, and ends with the run's status once the
      // owner has finished it, or takes the run if the owner has died (or given it up) meanwhile.
      if (!(error instanceof RunStillRunningError)) throw error;
      this.log(`run ${runId} is still run by its owner: asked again in ${this.ownerRetryMs} ms`);
      await job.moveToDelayed(Date.now() + this.ownerRetryMs, token);
      throw new DelayedError();
    }
    this.active.set(runId, handle);
    // The drain's stopAll() came during the resume, before the run was active: stop it now.
    if (this.draining) this.engine.stop(runId, 'interrupted');
    this.log(`run ${runId} taken (${record.pipelineName}${job.attemptsStarted > 1 ? ', again' : ''})`);
    try {
      const result = await handle.result.catch((error: unknown) => {
        if (this.lostRuns.has(handle)) return undefined;
        throw error;
      });
      // Given up: the job is another worker's now (or back in the queue once found stalled). Still
      // `running` once the execution is over: the journal's fence stopped it — another process
      // claimed the run (a worker, `elexirion resume`) — and the run is that process's to end.
      if (result === undefined || this.lostRuns.has(handle) || result.status === 'running') {
        return await this.letGo(job, token);
      }
      if (!(this.draining && result.status === 'interrupted')) this.log(`run ${runId} ${result.status}`);
      return await this.ended(job, token, result.status);
    } finally {
      if (this.active.get(runId) === handle) this.active.delete(runId);
    }
  }

  /**
   * Resumes a run from the journal. An owner on this host that lives is waited for (the engine
   * refuses), unless it is a worker whose heartbeat says it gave the run up (its lock lost).
   */
  private async resume(record: RunRecord): Promise<RunHandle> {
    try {
      return await this.engine.resume(record.id, { fromJournal: true });
    } catch (error) {
      if (!(error instanceof RunStillRunningError)) throw error;
      const { host, pid } = record.metadata as { host?: string; pid?: number };
      const owner = `${String(host)}:${String(pid)}`;
      if (owner === this.id || !(await this.ownership.releasedBy(owner, record.id))) throw error;
      this.log(`run ${record.id} was given up by ${owner}: taken over`);
      return this.engine.resume(record.id, { fromJournal: true, ownerReleased: true });
    }
  }

  /**
   * Stops executing a run whose job lock this worker lost: another worker may hold the job (and run
   * the run) now. Nothing more of it is journaled here; the job is left to whoever holds it.
   */
  private loseRun(runId: string, why: string): void {
    const handle = this.active.get(runId);
    if (!handle || this.lostRuns.has(handle)) return;
    this.lostRuns.add(handle);
    if (this.engine.abandon(runId, why)) this.log(`run ${runId} given up: ${why}`);
  }

  /**
   * Whether this process's clock shows a gap since the freeze watch last ran longer than a lock
   * lives: it was frozen, and its runs and chunks may be another worker's. Then every one of them
   * is given up, at once.
   */
  private givenUpIfFrozen(): boolean {
    const now = Date.now();
    const gap = now - this.lastTick;
    if (gap <= this.lockMs) return false;
    this.lastTick = now;
    const why = `the process was frozen for ${gap} ms`;
    for (const id of [...this.chunks.keys()]) this.loseChunk(id, why);
    for (const id of [...this.active.keys()]) this.loseRun(id, why);
    return true;
  }

  /** A run whose job the queue failed for good: ended `interrupted`, resumable, unless it runs here. */
  private async endOrphaned(runId: string, reason: string): Promise<void> {
    if (this.engine.isActive(runId)) return; // its execution here journals its own end
    try {
      if (await endOrphanedRun(this.options.store, runId, reason)) {
        this.log(`run ${runId} interrupted: the cluster gave up on its job (${reason})`);
      }
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      this.log(`run ${runId}: its job failed for good, and its end could not be journaled: ${why}`);
    }
  }

  /** The end of a run job this worker gave up: back to the queue if its lock is still ours, else left alone. */
  private async letGo(job: Job, token: string | undefined): Promise<never> {
    await job.moveToWait(token).catch(() => {});
    throw new WaitingError();
  }

  /** A run job's end: completed with the run's status, or back to the queue when a drain interrupted it. */
  private async ended(job: Job<RunJobData, RunJobResult>, token: string | undefined, status: string) {
    // Back to the queue, not completed: another worker resumes it from the journal.
    if (this.draining && status === 'interrupted') return this.handBack(job, token);
    return { status };
  }

  /**
   * A job that failed because the journal cannot be reached is not a failed attempt: without this,
   * a PostgreSQL restart would fail, in a few seconds, every run and chunk taken meanwhile (three
   * attempts each). It waits in the queue and is taken again — here or by another worker — once
   * the journal answers; what was journaled before is not run again. Any other error is rethrown.
   */
  private async unlessJournalAway(job: Job, token: string | undefined, error: unknown): Promise<never> {
    if (!journalAway(error)) throw error;
    if (this.draining) return this.handBack(job, token);
    const reason = error instanceof Error ? error.message : String(error);
    this.log(`job ${job.id} waits ${this.journalRetryMs} ms for the journal: ${reason}`);
    await job.moveToDelayed(Date.now() + this.journalRetryMs, token);
    throw new DelayedError();
  }

  /** Puts a job this worker holds back in the queue for another worker (a drain). */
  private async handBack(job: Job, token: string | undefined): Promise<never> {
    await job.moveToWait(token);
    throw new WaitingError();
  }

  /** A batch flow's parent, once every chunk has ended: its return value is the batch's stats. */
  private async processBatch(job: Job<BatchJobData, BatchJobResult>): Promise<BatchJobResult> {
    const reports = await job.getChildrenValues<ItemChunkResult>();
    const stats = sumChunkResults(Object.values(reports));
    // Every delivery's counts are in the chunks' reports now (chunk-stats.ts): their ledgers go,
    // rather than wait a week to expire. Keyed `<prefix>:items:<id>`; a job id has no ':'.
    const chunkIds = Object.keys(reports).map((key) => key.slice(key.lastIndexOf(':') + 1));
    await forgetChunkStats(this.redis, this.options.config.prefix, chunkIds).catch(() => {}); // else they expire
    this.log(`batch ${job.id} ended: ${job.data.chunks} chunk(s)`);
    return stats;
  }

  private async processChunk(job: Job<ItemChunkData, ItemChunkResult>, token?: string): Promise<ItemChunkResult> {
    const id = job.id ?? '';
    const running = this.chunkResults.get(id);
    if (running) return running; // handed out again while it runs here: see processRun
    // A start that no failure ended (a stall, a lock lost in a Redis outage) may have a live holder.
    // A retry after a failed attempt has none: waiting a heartbeat for each would delay, attempt
    // after attempt, the moment a chunk that cannot run fails its batch.
    if (job.attemptsStarted > job.attemptsMade + 1) {
      await this.ownership.waitWhileHeldElsewhere(id, this.drainStarted.signal);
    }
    if (this.draining) return this.handBack(job, token);
    const result = this.runChunk(job, token);
    this.chunkResults.set(id, result);
    try {
      return await result;
    } catch (error) {
      return this.unlessJournalAway(job, token, error);
    } finally {
      this.chunkResults.delete(id);
    }
  }

  private async runChunk(job: Job<ItemChunkData, ItemChunkResult>, token?: string): Promise<ItemChunkResult> {
    const id = job.id ?? '';
    const controller = new AbortController();
    this.chunks.set(id, controller);
    // The drain aborted the chunks it found; one that started since stops too.
    if (this.draining) controller.abort(new Error('worker draining'));
    const { prefix } = this.options.config;
    const { runId, stepKey, generation } = job.data;
    const cancelKeys = [batchCancelKey(prefix, runId, stepKey, generation), runCancelKey(prefix, runId)];
    // Asked before the first item too: the chunks of a given-up flow that wait in the queue end at once.
    let cancelled = (await this.redis.exists(...cancelKeys).catch(() => 0)) > 0;
    const watch = setInterval(() => {
      this.redis
        .exists(...cancelKeys)
        .then((n) => {
          cancelled = n > 0;
        })
        .catch(() => {});
    }, 500);
    // What every delivery of the chunk counted: a delivery that finds items done still reports theirs.
    const ledger = new ChunkStats(this.redis, prefix, id, token ?? `attempt ${job.attemptsStarted}`);
    const traced = this.telemetry.chunks?.begin(job);
    try {
      const own = await runItemChunk(
        {
          store: this.options.store,
          gates: this.engine.gates,
          env: this.options.env,
          redaction: this.engine.redaction,
          budgets: this.budgets.factory,
          bus: this.itemBus,
        },
        job.data,
        controller.signal,
        // Asked before each item: after a thaw, a finished item's timer may fire before the freeze
        // watch's, and the next item would start on a chunk that is another worker's by now.
        () => cancelled || this.givenUpIfFrozen(),
        (stats) => ledger.record(stats),
      );
      const total = await ledger.total(own);
      traced?.end();
      return total;
    } catch (error) {
      traced?.end(error);
      // Finished items are journaled; another worker does the rest.
      if (this.draining && controller.signal.aborted) await this.handBack(job, token);
      throw error;
    } finally {
      clearInterval(watch);
      this.chunks.delete(id);
    }
  }

  /** Stops a chunk this worker no longer holds: no item of it starts here any more. */
  private loseChunk(id: string, why: string): void {
    const controller = this.chunks.get(id);
    if (!controller || controller.signal.aborted) return;
    this.log(`chunk ${id} given up: ${why}`);
    controller.abort(new ChunkLostError(id, why));
  }

  /** Runs whose cancellation was asked (`serve --cluster`: POST /runs/:id/cancel) stop here. */
  private async stopCancelledRuns(): Promise<void> {
    const ids = [...this.active.keys()];
    if (ids.length === 0) return;
    const flags = await this.redis
      .mget(...ids.map((id) => runCancelKey(this.options.config.prefix, id)))
      .catch(() => [] as (string | null)[]); // Redis away: asked again next tick
    ids.forEach((id, i) => {
      if (flags[i] && this.engine.stop(id, 'cancelled')) this.log(`run ${id} cancelled`);
    });
  }

  private log(line: string): void {
    // With a JSON log, its lines are the worker's too: stderr stays one format, each line JSON.
    if (this.options.logger) this.options.logger.info({ event: 'worker', worker: this.id }, line);
    this.options.log?.(`[${new Date().toISOString()}] ${hostname()}:${process.pid} ${line}`);
  }
}

/**
 * Closes a BullMQ worker once its connections have connected. One closed while its blocking
 * connection still connects (a start that failed at once: its journal refused) has that connection
 * fail "Connection is closed" after BullMQ has removed its error listeners: an uncaught exception,
 * which ended the process with a stack trace instead of the start's clear error.
 */
async function closeWhenConnected(worker: Worker): Promise<void> {
  await worker.waitUntilReady().catch(() => {});
  await worker.close();
}

/** A chunk's lock is another worker's now: what this worker journaled stays, the rest is the other's. */
class ChunkLostError extends Error {
  constructor(id: string, why: string) {
    super(`chunk ${id} is no longer this worker's: ${why}`);
  }
}
