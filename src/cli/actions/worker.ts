// What `elexirion worker` does (commands/worker.ts defines its flags): loaded when it runs.
import { UsageError } from '../../errors.js';
import { DEFAULT_HOST } from '../../server/defaults.js';
import type { WorkerFlags } from '../commands/worker.js';
import type { CliContext } from '../context.js';
import { openStore } from '../open-store.js';
import { numberOption } from '../option-values.js';
import { VERSION } from '../version.js';

/** Works the cluster's queue until SIGTERM or SIGINT, then drains. */
export async function workerCommand(flags: WorkerFlags, ctx: CliContext): Promise<void> {
  const concurrency = numberOption('--concurrency', flags.concurrency, {
    expected: 'a whole number of runs (1 or more)',
    min: 1,
    hint: 'e.g. --concurrency 4',
  });
  const metrics = metricsEndpoint(flags, ctx.env);
  // BullMQ, ioredis, pino and OpenTelemetry load with the command, not with the CLI.
  const [{ assertRedisReachable, clusterConfig }, { ClusterWorker }, { telemetryFromEnv }] = await Promise.all([
    import('../../cluster/connection.js'),
    import('../../cluster/worker.js'),
    import('../telemetry-from-env.js'),
  ]);
  const config = clusterConfig(flags.redis, ctx.env);
  await assertRedisReachable(config);
  // As serve's: the runs run here, so the JSON run log (stderr) and the spans are this process's.
  const { logger, tracing, restoreOutput } = telemetryFromEnv(ctx, VERSION);
  try {
    // The journal before any queue connection opens: one that cannot be used (unreachable, a
    // database that does not exist, a newer schema) is the start's clear error, exit 69. Checked
    // after the worker's connections were opening, its failure could close them mid-connect.
    let store: Awaited<ReturnType<typeof openStore>> | undefined;
    try {
      store = await openStore(flags.db, ctx);
      await store.migrate();
    } catch (error) {
      await store?.close().catch(() => {});
      await tracing?.shutdown().catch(() => {});
      throw error;
    }
    const worker = new ClusterWorker({
      config,
      store,
      env: ctx.env,
      concurrency,
      ...(metrics ? { metrics } : {}),
      logger,
      ...(tracing ? { tracing } : {}),
    });
    try {
      await worker.start();
      const signal = await new Promise<NodeJS.Signals>((done) => {
        process.once('SIGTERM', () => done('SIGTERM'));
        process.once('SIGINT', () => done('SIGINT'));
      });
      logger.info({ signal }, 'elexirion worker: draining');
      await worker.drain();
    } finally {
      await worker.drain();
      await store.close();
    }
  } finally {
    restoreOutput();
  }
}

/** --metrics-port and --metrics-host, checked before anything connects; none without --metrics-port. */
function metricsEndpoint(
  flags: WorkerFlags,
  env: NodeJS.ProcessEnv,
): { port: number; host: string; token?: string } | undefined {
  if (flags.metricsPort === undefined) {
    if (flags.metricsHost !== undefined) {
      throw new UsageError('--metrics-host needs --metrics-port', 'e.g. --metrics-port 9464 --metrics-host 0.0.0.0');
    }
    return undefined;
  }
  const port = numberOption('--metrics-port', flags.metricsPort, {
    expected: 'a port number (0 to 65535; 0 picks a free one)',
    min: 0,
    max: 65_535,
    hint: 'e.g. --metrics-port 9464',
  });
  const host = flags.metricsHost ?? DEFAULT_HOST;
  if (host.trim() === '') {
    throw new UsageError(
      '--metrics-host "" is not an address',
      `the value is empty: a variable meant to hold it may be unset (the default is ${DEFAULT_HOST})`,
    );
  }
  return { port, host, ...(env.ELEXIRION_TOKEN ? { token: env.ELEXIRION_TOKEN } : {}) };
}
