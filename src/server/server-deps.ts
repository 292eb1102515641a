// What the HTTP app needs from the process around it; tests build it with an in-memory store.
import type { PipelineLoadCache } from '../config/load-cache.js';
import type { LoadedPipeline } from '../config/loader.js';
import type { Engine, StartOptions } from '../engine/engine.js';
import type { HealthReport } from '../health/health.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Redactor } from '../telemetry/redact.js';
import type { Admissions } from './admissions.js';
import type { InlineProviderPolicy } from './inline-providers.js';
import type { OpenStreams } from './open-streams.js';
import type { PathNamer } from './root-relative.js';
import type { RunEventHub } from './run-event-hub.js';

export interface ServerDeps {
  engine: Engine;
  hub: RunEventHub;
  metrics: Metrics;
  health: () => Promise<HealthReport>;
  /** Pipelines named by path must lie inside this directory. */
  root: string;
  /** What a pipeline sent inline may configure of its providers (default: the safe minimum). */
  inlineProviders?: InlineProviderPolicy;
  /** ELEXIRION_TOKEN; undefined only on a loopback host. */
  token?: string;
  /** Secrets out of everything a response carries: outputs, events, errors. */
  redact: Redactor;
  /**
   * Files under `root` named relative to it, in the messages and the fields naming files of what
   * leaves the server (relativeDeep) — never in outputs or streamed chunks (relativeToRoot(root)).
   */
  relativize: PathNamer;
  /** Where a request that fails with a 5xx is logged (its response carries no details). */
  logger?: Logger;
  /** Largest accepted request body, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Interval of the keep-alive comments of an event stream (default 15 s). */
  keepAliveMs?: number;
  /** Live events a client of an event stream may fall behind by before it is dropped (default 10,000). */
  maxClientBacklog?: number;
  /** How long a client of an event stream may take nothing before it is dropped (default 30 s). */
  maxClientStallMs?: number;
  /** `serve --cluster`: runs are executed by the cluster's workers, not by this process. */
  remote?: RemoteRuns;
  /** The event streams of local runs, which a shutdown lets finish (see OpenStreams). */
  streams?: OpenStreams;
  /** The runs being started, which a shutdown waits for before it interrupts them (see Admissions). */
  admissions?: Admissions;
  /** The loads of the pipeline files runs are submitted with (default: a cache of the app's own). */
  pipelines?: PipelineLoadCache;
}

/**
 * Runs executed elsewhere (the workers of a cluster): this process creates them in the shared
 * journal and controls them through the queue; their events come live from their workers, merged
 * with the journal.
 */
export interface RemoteRuns {
  /** Creates the run in the journal and enqueues it; resolves with its id. */
  submit(loaded: LoadedPipeline, options: Omit<StartOptions, 'record' | 'replay'>): Promise<string>;
  /**
   * `cancelled`: it had not started and never will; `cancelling`: a worker holds it and stops it
   * within a second; undefined: it is neither queued nor running.
   */
  cancel(runId: string): Promise<'cancelled' | 'cancelling' | undefined>;
  /** Enqueues a failed, interrupted or cancelled run again; a UsageError when its state forbids it. */
  resume(runId: string): Promise<void>;
  /** Whether the run is queued or held by a worker (its events may still grow). */
  isLive(runId: string): Promise<boolean>;
  /**
   * Whether a resume of the run waits in the queue — or a worker is taking it — not yet begun: the
   * journal still shows the run as its last execution ended (final status, `resumes` resumes in
   * its metadata) until the worker that takes it marks it running.
   */
  resumeQueued(runId: string, resumes: number): Promise<boolean>;
  /** The run's events after `afterSeq`, as they happen: journaled ones with their seq, in order, each once. */
  followEvents(runId: string, afterSeq: number): Promise<RemoteEventFeed>;
  /**
   * The execution of the run under way on a worker now, as its `pipeline.execution.start` names it
   * (`seq`, `at`), when known — its start may not be journaled yet: a client's event id of it is
   * taken at its word (routes/execution-marks.ts), as a local server does for its own executions.
   */
  runningExecution?(runId: string): Promise<{ seq: number; at: number } | undefined>;
  /** Rejects when the cluster's Redis does not answer a PING (GET /health asks; it bounds the wait). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A run's events for a follower in another process (RunEventFeed in cluster mode). */
export interface RemoteEventFeed {
  /** The events deliverable now, in order; waits up to `waitMs` when there are none. */
  next(waitMs: number): Promise<{ seq?: number; type: string; at: number; data: unknown }[]>;
  close(): void;
}
