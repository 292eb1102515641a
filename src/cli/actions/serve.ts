// What `elexirion serve` does (commands/serve.ts defines its flags): loaded when it runs.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import type { Store } from '../../journal/store.js';
import { parseAllowedBaseUrl } from '../../server/allowed-base-url.js';
import type { RemoteRuns } from '../../server/server-deps.js';
import type { ServeFlags } from '../commands/serve.js';
import type { CliContext } from '../context.js';
import { databaseLocation, openStore } from '../open-store.js';
import { MAX_TIMER_SECONDS, numberOption } from '../option-values.js';
import { VERSION } from '../version.js';

/** Serves until SIGTERM or SIGINT, then stops gracefully. */
export async function serveCommand(options: ServeFlags, ctx: CliContext): Promise<void> {
  const port = numberOption('--port', options.port, {
    expected: 'a port number (0 to 65535; 0 picks a free one)',
    min: 0,
    max: 65_535,
    hint: 'e.g. --port 8787',
  });
  const graceSeconds = numberOption('--grace', options.grace, {
    expected: `a number of seconds (0 to ${MAX_TIMER_SECONDS})`,
    min: 0,
    max: MAX_TIMER_SECONDS,
    fractions: true,
    hint: 'e.g. --grace 30 or --grace 2.5',
  });
  const root = pipelinesRoot(ctx.cwd, options.root);
  for (const entry of options.allowBaseUrl) {
    if (!URL.canParse(parseAllowedBaseUrl(entry).url)) {
      throw new UsageError(`--allow-base-url must be a URL or URL=VAR, got "${entry}"`);
    }
  }
  for (const name of options.allowKeyEnv) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) {
      throw new UsageError(`--allow-key-env must be an environment variable name, got "${name}"`);
    }
  }
  // The service's libraries (Hono, pino, OpenTelemetry) load with the command, not with the CLI.
  const [{ startService }, { createLogger, routeProcessOutput }, { createTracingFromEnv }] = await Promise.all([
    import('../../server/service.js'),
    import('../../telemetry/logger.js'),
    import('../../telemetry/tracing.js'),
  ]);
  const logger = createLogger({
    destination: ctx.stderr,
    env: ctx.env,
    level: ctx.env.ELEXIRION_LOG_LEVEL ?? 'info',
  });
  // stderr is the JSON log: Node's warnings and what libraries print there go through the logger
  // (and its redactor) while serving, not around it.
  const restoreOutput = routeProcessOutput(logger);
  try {
    const store = await openStore(options.db, ctx);
    const tracing = createTracingFromEnv(ctx.env, VERSION);
    let service: Awaited<ReturnType<typeof startService>>;
    try {
      // Opening a PostgreSQL journal connects to nothing: checked (and migrated) here, an
      // unreachable one is the clear error and exit 69 now, not a server that answers every
      // request with 503. First, so that nothing is left connected to Redis when it fails.
      await store.migrate();
      const remote = options.cluster ? await clusterRuns(options, ctx, store) : undefined;
      service = await startService({
        ...(remote ? { remote } : {}),
        store,
        root,
        inlineProviders: {
          allowBaseUrls: options.allowBaseUrl,
          allowKeyEnv: options.allowKeyEnv,
          trust: options.trustInlineProviders === true,
        },
        port,
        host: options.host,
        env: ctx.env,
        logger,
        ...(ctx.env.ELEXIRION_TOKEN ? { token: ctx.env.ELEXIRION_TOKEN } : {}),
        ...(tracing ? { tracing } : {}),
      });
    } catch (error) {
      await store.close();
      throw error;
    }
    ctx.stdout.write(`elexirion serve: listening on ${service.url}\n`);
    const signal = await new Promise<NodeJS.Signals>((done) => {
      process.once('SIGTERM', () => done('SIGTERM'));
      process.once('SIGINT', () => done('SIGINT'));
    });
    logger.info({ signal }, 'elexirion serve: stopping');
    await service.shutdown(graceSeconds * 1000);
    await store.close();
  } finally {
    restoreOutput();
  }
}

/**
 * The directory `--root` names, resolved: checked before anything starts. A root that is missing or
 * is a file would give a server that lists no pipelines and answers every run with 422.
 */
function pipelinesRoot(cwd: string, given: string): string {
  const root = resolve(cwd, given);
  const named = root === given ? given : `${given} (${root})`;
  const hint = 'give the directory the pipelines are in, e.g. --root examples (default: the current directory)';
  let isDirectory: boolean;
  try {
    isDirectory = statSync(root).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new UsageError(`--root ${named}: no such directory`, `create it, or ${hint}`);
    }
    throw new UsageError(`--root ${named} cannot be read (${code ?? (error as Error).message})`, hint);
  }
  if (!isDirectory) throw new UsageError(`--root ${named} is not a directory`, hint);
  return root;
}

/** `serve --cluster`: Redis checked first (a clear error), a journal the workers can share. */
async function clusterRuns(flags: ServeFlags, ctx: CliContext, store: Store): Promise<RemoteRuns> {
  if (databaseLocation(flags.db, ctx) === ':memory:') {
    throw new UsageError(
      'serve --cluster needs a journal the workers share; `:memory:` lives only in this process',
      'use --db postgres://… (or, on one machine, a SQLite file path every worker opens)',
    );
  }
  const [{ assertRedisReachable, clusterConfig }, { ClusterRuns }] = await Promise.all([
    import('../../cluster/connection.js'),
    import('../../cluster/remote-runs.js'),
  ]);
  const config = clusterConfig(flags.redis, ctx.env);
  await assertRedisReachable(config);
  return new ClusterRuns(config, store);
}
