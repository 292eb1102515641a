// The system's health, one call away: a real query against the journal and a write beside it, the
// cluster's Redis (under `serve --cluster`), the providers' breakers and keys, memory, active runs
// and event-loop lag. `elexirion health` and `GET /health` print it.
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, realpath, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import type { Store } from '../journal/store.js';
import { type Env, PROVIDER_ENV } from '../providers/settings.js';
import type { GateRegistry } from '../resilience/gate-registry.js';
import { createRedactor, type Redactor } from '../telemetry/redact.js';
import type { EventLoopLag, EventLoopMonitor } from './event-loop.js';
import type { SharedCheck } from './shared-check.js';
import { type TimedCheck, timedCheck } from './timed-check.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface ProviderHealth {
  name: string;
  /** Circuit breaker state; `unused` when no call has gone to the provider in this process. */
  circuit: 'closed' | 'half_open' | 'open' | 'unused';
  keyPresent: boolean | null;
  inFlight: number;
  queued: number;
}

export interface HealthReport {
  status: HealthStatus;
  checks: {
    database: TimedCheck;
    /** Only under `serve --cluster`: the Redis its runs are submitted, cancelled and resumed through. */
    redis?: TimedCheck;
    providers: { status: CheckStatus; providers: ProviderHealth[] };
    memory: {
      status: CheckStatus;
      rssBytes: number;
      heapUsedBytes: number;
      heapLimitBytes: number;
      heapUsedRatio: number;
    };
    activeRuns: { status: CheckStatus; count: number };
    eventLoop: { status: CheckStatus } & EventLoopLag;
  };
  timestamp: string;
}

/**
 * The journal as the health check sees it: a real query (`listRuns`), then a write. A store may
 * offer its own write probe (`probeWrite`: rejects while the journal takes no writes); a SQLite
 * journal (a `path` other than `:memory:`) is probed by writing a small file beside it, where its
 * write-ahead log goes. Neither: reads only.
 */
export type HealthStore = Pick<Store, 'listRuns'> & {
  readonly path?: string;
  probeWrite?: () => Promise<void>;
};

export interface HealthSources {
  /** The journal; probed with a real query and a write. */
  store: HealthStore;
  gates?: GateRegistry;
  activeRuns?: number;
  eventLoop: EventLoopMonitor;
  env?: Env;
  /** Lag (p99) above which the process counts as degraded. */
  maxLagMs?: number;
  /** Share of the heap limit above which the process counts as degraded. */
  maxHeapRatio?: number;
  /** How long the journal may take to answer before it counts as failed (default 5 s). */
  databaseTimeoutMs?: number;
  /**
   * serve's: the journal's check shared by the probes that ask at the same time (shared-check.ts).
   * Without it every report checks the journal on its own.
   */
  databaseCheck?: SharedCheck;
  /** Applied to the journal's error (GET /health needs no token). Default: the redactor of `env`. */
  redact?: Redactor;
  /** `serve --cluster`: the cluster's Redis, asked for a PING. */
  redis?: { ping(): Promise<unknown> };
  /** How long Redis may take to answer its PING before it counts as failed (default 1 s). */
  redisTimeoutMs?: number;
}

export const DATABASE_TIMEOUT_MS = 5000;
/** As a cluster worker's own GET /health waits for Redis. */
export const REDIS_TIMEOUT_MS = 1000;

export async function checkHealth(sources: HealthSources): Promise<HealthReport> {
  const env = sources.env ?? process.env;
  const { redis: pinged } = sources;
  const checkDatabase = () =>
    timedCheck(() => readAndWrite(sources.store), sources.databaseTimeoutMs ?? DATABASE_TIMEOUT_MS, 'the journal');
  const [database, redis] = await Promise.all([
    sources.databaseCheck ? sources.databaseCheck.run(checkDatabase) : checkDatabase(),
    pinged ? timedCheck(() => pinged.ping(), sources.redisTimeoutMs ?? REDIS_TIMEOUT_MS, 'Redis') : undefined,
  ]);
  // Its URL may be in it (user:password@host).
  for (const check of [database, redis]) {
    if (check?.error) check.error = (sources.redact ?? createRedactor(env))(check.error);
  }
  const providers = checkProviders(sources.gates, env);
  const heap = getHeapStatistics();
  const memoryUsage = process.memoryUsage();
  const heapUsedRatio = memoryUsage.heapUsed / heap.heap_size_limit;
  // Not sample(): that would reset the lag for every other probe (see EventLoopMonitor.recent).
  const lag = sources.eventLoop.recent();
  const checks: HealthReport['checks'] = {
    database,
    ...(redis ? { redis } : {}),
    providers,
    memory: {
      status: heapUsedRatio > (sources.maxHeapRatio ?? 0.9) ? 'warn' : 'ok',
      rssBytes: memoryUsage.rss,
      heapUsedBytes: memoryUsage.heapUsed,
      heapLimitBytes: heap.heap_size_limit,
      heapUsedRatio: Math.round(heapUsedRatio * 1000) / 1000,
    },
    activeRuns: { status: 'ok', count: sources.activeRuns ?? 0 },
    eventLoop: { status: lag.p99Ms > (sources.maxLagMs ?? 500) ? 'warn' : 'ok', ...lag },
  };
  return { status: overall(checks), checks, timestamp: new Date().toISOString() };
}

/**
 * Unhealthy when the journal is unreachable (nothing can run), or the cluster's Redis (no run can be
 * submitted, cancelled or resumed); degraded when anything else warns.
 */
function overall(checks: HealthReport['checks']): HealthStatus {
  const all = Object.values(checks).map((c) => c.status);
  if (checks.database.status === 'fail' || checks.redis?.status === 'fail') return 'unhealthy';
  return all.some((s) => s !== 'ok') ? 'degraded' : 'healthy';
}

/**
 * A real query and a write (bounded in time by timedCheck). A journal that answers reads but takes
 * no writes (a full disk, a file system remounted read-only) cannot record a run: it fails the
 * check as well.
 */
async function readAndWrite(store: HealthStore): Promise<void> {
  await store.listRuns({ limit: 1 });
  if (typeof store.probeWrite === 'function') await store.probeWrite();
  else if (typeof store.path === 'string' && store.path !== ':memory:') await probeFileJournal(store.path);
}

/** Bytes the probe writes: a page of SQLite, a block of most file systems — what a log line needs. */
const PROBE_BYTES = 4096;
let probes = 0;

/**
 * A SQLite journal takes a write as a line appended to its write-ahead log, in the directory
 * `<database>-log` beside the database file (or, before its first write, creates that directory
 * beside the file): a file written there, then removed, fails as that line would — no space left
 * (ENOSPC), a quota (EDQUOT), a read-only file system (EROFS), no permission (EACCES). Not
 * fsynced, as the log's lines are not (unless `durability: 'full'`). The file's name does not end
 * in `.jsonl`: recovery never takes it for a log.
 */
async function probeFileJournal(path: string): Promise<void> {
  try {
    const real = await realpath(path);
    const logDir = `${real}-log`;
    const dir = await stat(logDir).then(
      (s) => (s.isDirectory() ? logDir : dirname(real)),
      () => dirname(real),
    );
    const file = join(dir, `.health-probe-${process.pid}-${++probes}-${randomBytes(4).toString('hex')}.tmp`);
    let handle: FileHandle | undefined;
    try {
      handle = await open(file, 'wx', 0o600);
      // writeFile goes on after a short write: the bytes that did not fit fail with ENOSPC.
      await handle.writeFile(Buffer.alloc(PROBE_BYTES));
      const written = handle;
      handle = undefined;
      await written.close(); // a network file system may report a failed write only here
    } finally {
      await handle?.close().catch(() => {});
      await rm(file, { force: true }).catch(() => {});
    }
  } catch (error) {
    // The code and its sentence, without the path (GET /health needs no token).
    const message = error instanceof Error ? error.message : String(error);
    const reason = /^E[A-Z]+: [^,]+/.exec(message)?.[0] ?? message;
    throw new Error(`the journal cannot be written: ${reason}`);
  }
}

function checkProviders(gates: GateRegistry | undefined, env: Env): HealthReport['checks']['providers'] {
  const byName = new Map<string, ProviderHealth>();
  for (const [name, vars] of Object.entries(PROVIDER_ENV)) {
    // As the providers read it (settings.ts): a blank value is no key.
    const keyPresent = vars.keyVariables.some((v) => Boolean(env[v]?.trim()));
    byName.set(name, { name, circuit: 'unused', keyPresent, inFlight: 0, queued: 0 });
  }
  // One line per provider name, its gates (one per configuration) summed, its worst breaker.
  for (const gate of gates?.summary() ?? []) {
    const known = byName.get(gate.provider);
    byName.set(gate.provider, {
      name: gate.provider,
      circuit: gate.circuit,
      keyPresent: known ? known.keyPresent : null,
      inFlight: gate.inFlight,
      queued: gate.queued,
    });
  }
  const providers = [...byName.values()];
  // An open breaker means calls to that provider fail fast right now: the service is degraded.
  const status: CheckStatus = providers.some((p) => p.circuit === 'open') ? 'warn' : 'ok';
  return { status, providers };
}
