// `elexirion worker`: a cluster worker. Pulls runs from the Redis queue, runs them on the shared
// journal, publishes a heartbeat; SIGTERM drains (the runs in flight go back to the queue, resumable).
import { openStore } from '../open-store.js';
import { numberOption } from '../option-values.js';
import type { RegisterCommand } from './index.js';

export const registerWorker: RegisterCommand = (program, ctx, setExitCode) => {
  program
    .command('worker')
    .description('run pipelines from the cluster queue (Redis) on the shared journal')
    .option('--redis <url>', 'the Redis of the cluster (default: $ELEXIRION_REDIS)')
    .option('--db <url>', 'the shared journal: postgres://… or a SQLite file on this machine (default: $ELEXIRION_DB)')
    .option('--concurrency <n>', 'runs at once on this worker', '4')
    .addHelpText(
      'after',
      `
Every worker of a cluster needs the same Redis, the same journal and the provider keys.
SIGTERM (or Ctrl-C) drains: no new runs; runs in flight stop at a resumable point and go back to the
queue, where another worker resumes them from the journal.

Examples:
  $ elexirion worker --redis redis://127.0.0.1:6379 --db postgres://elexirion@db/elexirion
  $ ELEXIRION_REDIS=redis://cache:6379 ELEXIRION_DB=postgres://db/elexirion elexirion worker --concurrency 8`,
    )
    .action(async (flags: { redis?: string; db?: string; concurrency: string }) => {
      const concurrency = numberOption('--concurrency', flags.concurrency, {
        expected: 'a whole number of runs (1 or more)',
        min: 1,
        hint: 'e.g. --concurrency 4',
      });
      // BullMQ and ioredis load with the command, not with the CLI.
      const [{ assertRedisReachable, clusterConfig }, { ClusterWorker }] = await Promise.all([
        import('../../cluster/connection.js'),
        import('../../cluster/worker.js'),
      ]);
      const config = clusterConfig(flags.redis, ctx.env);
      await assertRedisReachable(config);
      const store = await openStore(flags.db, ctx);
      const worker = new ClusterWorker({
        config,
        store,
        env: ctx.env,
        concurrency,
        log: (line) => ctx.stderr.write(`${line}\n`),
      });
      try {
        await worker.start();
        const signal = await new Promise<NodeJS.Signals>((done) => {
          process.once('SIGTERM', () => done('SIGTERM'));
          process.once('SIGINT', () => done('SIGINT'));
        });
        ctx.stderr.write(`${signal}: draining\n`);
        await worker.drain();
      } finally {
        await worker.drain();
        await store.close();
      }
      setExitCode(0);
    });
};
