// The cluster's queues. A job of `runs` is a run id: the run (pipeline document, inputs, options)
// is in the shared journal, so a job carries nothing else and any worker can take it.
import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ClusterConfig } from './connection.js';

export const RUNS_QUEUE = 'runs';

export interface RunJobData {
  runId: string;
  /** When the submitter enqueued it (enqueue-to-start latency). */
  enqueuedAt: number;
  /**
   * A run enqueued again to be resumed (`POST /runs/:id/resume` of `serve --cluster`): its
   * `metadata.resumes` at that moment. A worker resumes a failed or cancelled run only while the
   * count is unchanged, so a job delivered twice does not run it twice.
   */
  resumes?: number;
}

/** What a finished run job returns. */
export interface RunJobResult {
  status: string;
}

export const RUN_JOB_OPTIONS: JobsOptions = {
  // A processor that crashes (journal unreachable …) gets two more tries; a run's own failure is
  // not a crash — the job completes with the run's status.
  attempts: 3,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export function runsQueue(config: ClusterConfig, connection: Redis): Queue<RunJobData, RunJobResult> {
  return new Queue<RunJobData, RunJobResult>(RUNS_QUEUE, { connection, prefix: config.prefix });
}

/** Enqueues run `runId`; the run id is the job id, so enqueuing a run twice is harmless. */
export async function enqueueRun(
  queue: Queue<RunJobData, RunJobResult>,
  runId: string,
  resumes?: number,
): Promise<void> {
  const data: RunJobData = { runId, enqueuedAt: Date.now(), ...(resumes === undefined ? {} : { resumes }) };
  await queue.add('run', data, { ...RUN_JOB_OPTIONS, jobId: runId });
}

/**
 * Redis key that asks the cluster to cancel a run: the worker holding it stops it (status
 * `cancelled`, resumable on demand), a worker about to take it does not start it. Lives a day.
 */
export function runCancelKey(prefix: string, runId: string): string {
  return `${prefix}:run-cancel:${runId}`;
}

export const RUN_CANCEL_TTL_S = 24 * 3600;
