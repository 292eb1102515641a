// `elexirion cluster status`: the workers of a cluster (from their heartbeats), their load, and the
// depth of the run, item and batch queues.
import type { ClusterStatus } from '../../cluster/status.js';
import type { CliContext } from '../context.js';
import { formatDuration } from '../format.js';
import type { RegisterCommand } from './index.js';

export const registerCluster: RegisterCommand = (program, ctx, setExitCode) => {
  const cluster = program.command('cluster').description('look at a cluster of workers (Redis)');
  cluster
    .command('status')
    .description('the live workers, their load, and the queue depths')
    .option('--redis <url>', 'the Redis of the cluster (default: $ELEXIRION_REDIS)')
    .option('--json', 'print the status as one JSON object')
    .action(async (flags: { redis?: string; json?: boolean }) => {
      const [{ assertRedisReachable, clusterConfig, redisConnection }, { clusterStatus }] = await Promise.all([
        import('../../cluster/connection.js'),
        import('../../cluster/status.js'),
      ]);
      const config = clusterConfig(flags.redis, ctx.env);
      await assertRedisReachable(config);
      const redis = redisConnection(config);
      try {
        const status = await clusterStatus(config, redis);
        if (flags.json) ctx.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        else printStatus(status, ctx);
      } finally {
        await redis.quit().catch(() => {});
      }
      setExitCode(0);
    });
};

function printStatus(status: ClusterStatus, ctx: CliContext): void {
  const c = ctx.colors;
  const { runs, items, batches } = status.queues;
  ctx.stdout.write(`${c.bold('cluster')} ${status.prefix}: ${status.workers.length} worker(s)\n`);
  const now = Date.now();
  for (const w of status.workers) {
    const drain = w.draining ? c.yellow(' draining') : '';
    ctx.stdout.write(
      `  ${w.id}${drain}  runs ${w.activeRuns}/${w.concurrency}  item chunks ${w.activeItems}  loop lag p99 ${w.eventLoopLagMs.p99} ms  rss ${Math.round(w.rssBytes / 2 ** 20)} MiB  up ${formatDuration(now - w.startedAt)}  ${c.dim(`seen ${formatDuration(now - w.at)} ago`)}\n`,
    );
  }
  const line = (name: string, q: typeof runs) =>
    `  ${name.padEnd(7)} ${q.waitingChildren === undefined ? '' : `${q.waitingChildren} waiting for their chunks, `}${q.waiting} waiting, ${q.active} active, ${q.delayed} delayed, ${q.completed} completed, ${q.failed} failed\n`;
  ctx.stdout.write(`${c.bold('queues')}:\n${line('runs', runs)}${line('items', items)}${line('batches', batches)}`);
}
