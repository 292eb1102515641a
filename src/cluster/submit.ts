// `run --cluster`: the run is created in the shared journal (pipeline document, inputs, options),
// its id is enqueued, and this process follows it to its end and prints it exactly as a local run.
import type { LoadedPipeline } from '../config/loader.js';
import { Engine, type StartOptions } from '../engine/engine.js';
import type { RunResult } from '../engine/run-result.js';
import { ElexirionError, ExitCode, UsageError } from '../errors.js';
import type { Store } from '../journal/store.js';
import { EventBus } from '../telemetry/event-bus.js';
import { createRedactor } from '../telemetry/redact.js';
import { type ClusterConfig, redisConnection } from './connection.js';
import { type FollowOutcome, followRun } from './follow.js';
import { endOrphanedRun } from './orphaned-run.js';
import { enqueueRun, runsQueue } from './queues.js';

export interface SubmitOptions {
  config: ClusterConfig;
  store: Store;
  /** Where the journal lives, as given (a cluster cannot share `:memory:`). */
  location: string;
  start: Omit<StartOptions, 'record' | 'replay'>;
  /** Progress printing: subscribes to the bus the followed events are re-emitted on. */
  attach?: (bus: EventBus) => () => void;
  signal?: AbortSignal;
}

export interface SubmittedRun {
  runId: string;
  result: RunResult;
  follow: FollowOutcome;
}

export class ClusterGaveUpError extends ElexirionError {
  constructor(runId: string, reason: string | undefined) {
    super(`the cluster gave up on run ${runId}${reason ? `: ${reason}` : ''}`, {
      exitCode: ExitCode.runFailed,
      hint: `look at the workers' logs; \`elexirion resume ${runId}\` continues it from the journal`,
    });
  }
}

/** Creates, enqueues and follows a run; resolves with its result as the journal has it. */
export async function submitAndFollow(loaded: LoadedPipeline, options: SubmitOptions): Promise<SubmittedRun> {
  if (options.location === ':memory:') {
    throw new UsageError(
      'cluster mode needs a journal the workers share; `:memory:` lives only in this process',
      'use --db postgres://… (or, on one machine, a SQLite file path every worker opens)',
    );
  }
  const engine = new Engine({ store: options.store, cache: false });
  const record = await engine.create(loaded, {
    ...options.start,
    metadata: { ...options.start.metadata, cluster: { prefix: options.config.prefix } },
  });
  const connection = redisConnection(options.config);
  connection.on('error', () => {}); // reconnects on its own; the journal keeps the story meanwhile
  const queue = runsQueue(options.config, connection);
  const bus = new EventBus();
  const detach = options.attach?.(bus) ?? (() => {});
  try {
    await enqueueRun(queue, record.id);
    const follow = await followRun({
      store: options.store,
      queue,
      runId: record.id,
      bus,
      live: { redis: connection.duplicate(), prefix: options.config.prefix },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    detach();
    const result = await engine.result(record.id);
    // The queue failed the job for good: the worker that failed it ends the run `interrupted`
    // (orphaned-run.ts) — or this follower does, should that worker have died first.
    if (follow.jobState === 'failed' && (result.status === 'running' || result.status === 'interrupted')) {
      if (result.status === 'running') {
        const reason = createRedactor(process.env)(follow.failedReason ?? 'its job failed');
        await endOrphanedRun(options.store, record.id, reason).catch(() => false);
      }
      throw new ClusterGaveUpError(record.id, follow.failedReason);
    }
    return { runId: record.id, result, follow };
  } finally {
    detach();
    await queue.close();
    await connection.quit().catch(() => {});
  }
}
