// `elexirion worker`: a cluster worker. Pulls runs from the Redis queue, runs them on the shared
// journal, publishes a heartbeat; SIGTERM drains (the runs in flight go back to the queue, resumable).
// With --metrics-port, serves its own /metrics and /health: Prometheus scrapes each worker.
import { UsageError } from '../../errors.js';
import { DEFAULT_HOST } from '../../server/defaults.js';
import { openStore } from '../open-store.js';
import { numberOption } from '../option-values.js';
import { VERSION } from '../version.js';
import type { RegisterCommand } from './index.js';

export const registerWorker: RegisterCommand = (program, ctx, setExitCode) => {
  program
    .command('worker')
    .description('run pipelines from the cluster queue (Redis) on the shared journal')
    .option('--redis <url>', 'the Redis of the cluster (default: $ELEXIRION_REDIS)')
    .option('--db <url>', 'the shared journal: postgres://… or a SQLite file on this machine (default: $ELEXIRION_DB)')
    .option('--concurrency <n>', 'runs at once on this worker', '4')
    .option(
      '--metrics-port <n>',
      'serve this worker’s GET /metrics (Prometheus) and GET /health on this port (0 picks a free one)',
    )
    .option('--metrics-host <host>', `with --metrics-port: the address to listen on (default: ${DEFAULT_HOST})`)
    .addHelpText(
      'after',
      `
Every worker of a cluster needs the same Redis, the same journal and the provider keys.
SIGTERM (or Ctrl-C) drains: no new runs; runs in flight stop at a resumable point and go back to the
queue, where another worker resumes them from the journal.
Metrics: a worker's runs, steps, tokens and costs are counted where they run, so Prometheus scrapes
every worker (--metrics-port); /metrics needs \`Authorization: Bearer $ELEXIRION_TOKEN\` when
ELEXIRION_TOKEN is set, /health never does.
Logs: JSON lines on stderr (ELEXIRION_LOG_LEVEL, default info): the worker's own, and a line per
event of the runs it runs. Traces: spans over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.

Examples:
  $ elexirion worker --redis redis://127.0.0.1:6379 --db postgres://elexirion@db/elexirion
  $ ELEXIRION_REDIS=redis://cache:6379 ELEXIRION_DB=postgres://db/elexirion elexirion worker --concurrency 8
  $ elexirion worker --metrics-port 9464 --metrics-host 0.0.0.0`,
    )
    .action(async (flags: WorkerFlags) => {
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
      setExitCode(0);
    });
};

interface WorkerFlags {
  redis?: string;
  db?: string;
  concurrency: string;
  metricsPort?: string;
  metricsHost?: string;
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
