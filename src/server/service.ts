// `elexirion serve` as a library call: an engine with metrics, logs, traces and the live event hub,
// behind the HTTP app, listening on a loopback address unless a token protects it.
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import type { PipelineLoadCache } from '../config/load-cache.js';
import { Engine, type EngineOptions } from '../engine/engine.js';
import { ElexirionError, ExitCode, UsageError } from '../errors.js';
import { EventLoopMonitor } from '../health/event-loop.js';
import { checkHealth } from '../health/health.js';
import { SharedCheck } from '../health/shared-check.js';
import type { Store } from '../journal/store.js';
import { attachLogging, type Logger } from '../telemetry/logger.js';
import { attachMetrics, type Metrics } from '../telemetry/metrics.js';
import { createRedactor } from '../telemetry/redact.js';
import { attachTracing, type Tracing } from '../telemetry/tracing.js';
import { Admissions } from './admissions.js';
import { createApp } from './app.js';
import { isLoopback } from './auth.js';
import { DEFAULT_HOST } from './defaults.js';
import type { InlineProviderPolicy } from './inline-providers.js';
import { OpenStreams } from './open-streams.js';
import { startOrphanSweeps } from './orphan-sweeps.js';
import { relativeToRoot } from './root-relative.js';
import { RunEventHub } from './run-event-hub.js';
import type { RemoteRuns } from './server-deps.js';

export interface ServiceOptions {
  store: Store;
  /** Directory pipelines may be read from by path. */
  root: string;
  /** What a pipeline sent inline may configure of its providers (see inline-providers.ts). */
  inlineProviders?: InlineProviderPolicy;
  port?: number;
  host?: string;
  token?: string;
  env?: Readonly<Record<string, string | undefined>>;
  logger?: Logger;
  tracing?: Tracing;
  maxBodyBytes?: number;
  /** Live events a client of an event stream may fall behind by before it is dropped (default 10,000). */
  maxClientBacklog?: number;
  /** How long a client of an event stream may take nothing before it is dropped (default 30 s). */
  maxClientStallMs?: number;
  /** `serve --cluster`: runs are submitted to the cluster's workers (closed with the service). */
  remote?: RemoteRuns;
  /** Passed to the engine (tests plug provider fakes in). */
  engine?: Omit<EngineOptions, 'store'>;
  /** The cache of the loads of submitted pipeline files (default: the service's own; tests count its loads). */
  pipelines?: PipelineLoadCache;
}

export interface Service {
  url: string;
  port: number;
  engine: Engine;
  metrics: Metrics;
  /**
   * Stops accepting connections, interrupts the active runs (resumable), waits up to `graceMs` for
   * them to journal their state, then closes everything. Resolves with the runs it interrupted.
   */
  shutdown(graceMs?: number): Promise<{ interrupted: number; drained: boolean }>;
}

export { DEFAULT_HOST };

/** How often `serve` looks for runs whose process was killed (see startService). */
export const ORPHAN_SWEEP_MS = 30_000;

export async function startService(options: ServiceOptions): Promise<Service> {
  const host = options.host ?? DEFAULT_HOST;
  const token = options.token === '' ? undefined : options.token;
  if (!token && !isLoopback(host)) {
    throw new UsageError(
      `refusing to listen on ${host} without a token: anyone who can reach it could run pipelines on your keys`,
      'set ELEXIRION_TOKEN, or listen on 127.0.0.1 (the default)',
    );
  }
  const env = options.env ?? process.env;
  const engine = new Engine({ ...options.engine, store: options.store, env: options.engine?.env ?? env });
  // The hub subscribes after the engine's own journaling subscriber: it reads the seq just assigned.
  const hub = new RunEventHub(engine);
  const metrics = attachMetrics(engine);
  const detachLogging = options.logger ? attachLogging(engine.bus, options.logger) : () => {};
  // One redactor, of the service's environment (a library caller's `env` may hold keys process.env does not).
  const redact = createRedactor(env);
  // Files under the root are named relative to it where a file is named: in the messages the engine
  // and the server write, and in the fields that name files — never in outputs (see root-relative.ts).
  const relativize = relativeToRoot(options.root);
  // Spans carry only error messages: the redactor and the relative names apply to the whole of them.
  const detachTracing = options.tracing
    ? attachTracing(engine.bus, options.tracing.tracer, { redact: (text) => redact(relativize(text)) })
    : () => {};
  const eventLoop = new EventLoopMonitor();
  const journalCheck = new SharedCheck();
  const streams = new OpenStreams();
  const admissions = new Admissions();
  const app = createApp({
    engine,
    hub,
    streams,
    admissions,
    metrics,
    root: options.root,
    ...(options.inlineProviders ? { inlineProviders: options.inlineProviders } : {}),
    redact,
    relativize,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(token ? { token } : {}),
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.maxClientBacklog ? { maxClientBacklog: options.maxClientBacklog } : {}),
    ...(options.maxClientStallMs ? { maxClientStallMs: options.maxClientStallMs } : {}),
    ...(options.remote ? { remote: options.remote } : {}),
    ...(options.pipelines ? { pipelines: options.pipelines } : {}),
    health: () =>
      checkHealth({
        store: engine.store,
        gates: engine.gates,
        activeRuns: engine.activeRuns,
        eventLoop,
        env,
        // The service's own: a failing check's error is redacted without a redactor built for each probe.
        redact,
        // Probes asking together write beside the journal once (GET /health needs no token).
        databaseCheck: journalCheck,
        // serve --cluster: no run can be submitted, cancelled or resumed without the cluster's Redis.
        ...(options.remote ? { redis: options.remote } : {}),
      }),
  });

  // What was set up around the server, let go of when it stops (or never starts listening).
  const release = async (): Promise<void> => {
    eventLoop.stop();
    hub.close();
    await options.remote?.close();
    metrics.detach();
    detachLogging();
    detachTracing();
    await options.tracing?.shutdown().catch(() => {});
  };

  let server: ReturnType<typeof serve>;
  try {
    server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: options.port ?? 8787, hostname: host }, () => resolve(s));
      s.once('error', reject);
    });
  } catch (error) {
    // Nothing listens: let go of what was set up, so that the process can exit with the error.
    await release();
    throw listenError(error, host, options.port ?? 8787);
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  options.logger?.info({ url, root: options.root, auth: Boolean(token) }, 'elexirion serve: listening');
  // A run whose process was killed (SIGKILL, out of memory, a machine that stopped) stays `running`
  // in the journal: the dashboard would follow it for ever. Such runs of this host are ended
  // `interrupted` — resumable — from now on, in the background, and then every ORPHAN_SWEEP_MS.
  const orphanSweeps = startOrphanSweeps(engine, ORPHAN_SWEEP_MS, options.logger);

  let stopping: Promise<{ interrupted: number; drained: boolean }> | undefined;
  const shutdown = (graceMs = 10_000) => {
    stopping ??= (async () => {
      const deadline = Date.now() + graceMs;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // No sweep starts from now on; one under way is let end (within the grace) before the journal closes.
      const sweepsStopped = orphanSweeps.stop(graceMs);
      // No run starts from now on; those being started (journaled, not yet supervised) are let
      // through first, so that stopAll interrupts them too.
      await admissions.close(deadline - Date.now());
      const interrupted = engine.activeRuns;
      engine.stopAll('interrupted');
      const grace = new AbortController();
      const drained = await Promise.race([
        engine.drain().then(() => true),
        sleep(graceMs, false, { signal: grace.signal }).catch(() => false),
      ]);
      grace.abort(); // the grace timer must not keep the process alive once the runs have stopped
      // Event streams end with their runs, once they have written the runs' last events: they get
      // what is left of the grace to do so; whatever is still open then is cut.
      await streams.ended(deadline - Date.now());
      if ('closeAllConnections' in server) server.closeAllConnections();
      await closed;
      await sweepsStopped;
      await release();
      options.logger?.info({ interrupted, drained }, 'elexirion serve: stopped');
      return { interrupted, drained };
    })();
    return stopping;
  };
  return { url, port, engine, metrics, shutdown };
}

/**
 * Why the service could not listen, for its user: the port taken or not allowed is the machine's
 * state, a service unavailable (exit 69); a host that is no address of this machine is a usage
 * mistake (exit 2). Anything else is left as it is.
 */
function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new ElexirionError(`cannot listen on ${where}: the port is already in use`, {
        exitCode: ExitCode.unavailable,
        cause: error,
        hint: 'stop what is listening there (another `elexirion serve`?), or choose another port with --port (0 picks a free one)',
      });
    case 'EACCES':
      return new ElexirionError(`cannot listen on ${where}: permission denied`, {
        exitCode: ExitCode.unavailable,
        cause: error,
        hint: 'ports below 1024 need privileges on most systems: choose another port with --port',
      });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UsageError(
        `cannot listen on ${where}: ${host} is not an address of this machine`,
        'give --host an address of this machine (127.0.0.1, the default; 0.0.0.0 for every interface)',
      );
    default:
      return error;
  }
}
