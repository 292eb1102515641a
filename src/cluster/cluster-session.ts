// The terminal side of `run --cluster`: Redis checked first (a clear error, or --fallback-local),
// progress and the summary printed by the same code as a local run, the same exit codes.
// Ctrl-C stops following, not the run: it goes on on the cluster.

import type { CliContext } from '../cli/context.js';
import { databaseLocation, openStore } from '../cli/open-store.js';
import { exitCodeOf, printRunSummary } from '../cli/print-run.js';
import { attachProgress } from '../cli/progress.js';
import type { LoadedPipeline } from '../config/loader.js';
import type { StartOptions } from '../engine/engine.js';
import { ExitCode } from '../errors.js';
import { assertRedisReachable, clusterConfig, RedisUnavailableError } from './connection.js';
import { submitAndFollow } from './submit.js';

export interface ClusterSessionFlags {
  db?: string;
  json?: boolean;
  stream?: boolean;
  redis?: string;
  fallbackLocal?: boolean;
}

export async function runClusterSession(
  ctx: CliContext,
  flags: ClusterSessionFlags,
  loaded: LoadedPipeline,
  start: Omit<StartOptions, 'record' | 'replay'>,
  runLocally: () => Promise<number>,
): Promise<number> {
  const config = clusterConfig(flags.redis, ctx.env);
  try {
    await assertRedisReachable(config);
  } catch (error) {
    if (!(error instanceof RedisUnavailableError) || !flags.fallbackLocal) throw error;
    ctx.stderr.write(
      `${ctx.stderrColors.yellow('warning')}: ${error.message}; running on this machine instead (--fallback-local)\n`,
    );
    return runLocally();
  }
  const store = await openStore(flags.db, ctx);
  const following = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    ctx.stderr.write(`\n${signal}: stopped following; the run goes on on the cluster\n`);
    following.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { runId, result } = await submitAndFollow(loaded, {
      config,
      store,
      location: databaseLocation(flags.db, ctx),
      start,
      signal: following.signal,
      ...(flags.json ? {} : { attach: (bus) => attachProgress(bus, ctx, { stream: flags.stream === true }) }),
    });
    if (following.signal.aborted) {
      ctx.stderr.write(`follow it with \`elexirion runs show ${runId}\`\n`);
      return ExitCode.interrupted;
    }
    if (flags.json) ctx.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else printRunSummary(result, ctx);
    return exitCodeOf(result);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await store.close();
  }
}
