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
export async function enqueueRun(queue: Queue<RunJobData, RunJobResult>, runId: string): Promise<void> {
  await queue.add('run', { runId, enqueuedAt: Date.now() }, { ...RUN_JOB_OPTIONS, jobId: runId });
}
