// `elexirion worker`: a cluster worker. Pulls runs from the Redis queue, runs them on the shared
// journal, publishes a heartbeat; SIGTERM drains (the runs in flight go back to the queue, resumable).
// With --metrics-port, serves its own /metrics and /health: Prometheus scrapes each worker. Its flags
// and help here; what it does in actions/worker.ts, imported when it runs (see index.ts).
import { DEFAULT_HOST } from '../../server/defaults.js';
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
      const { workerCommand } = await import('../actions/worker.js');
      await workerCommand(flags, ctx);
      setExitCode(0);
    });
};

export interface WorkerFlags {
  redis?: string;
  db?: string;
  concurrency: string;
  metricsPort?: string;
  metricsHost?: string;
}
