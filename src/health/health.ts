// The system's health, one call away: a real query against the journal, the providers' breakers
// and keys, memory, active runs and event-loop lag. `elexirion health` and `GET /health` print it.
import { getHeapStatistics } from 'node:v8';
import type { Store } from '../journal/store.js';
import { type Env, PROVIDER_ENV } from '../providers/settings.js';
import type { GateRegistry } from '../resilience/gate-registry.js';
import { createRedactor, type Redactor } from '../telemetry/redact.js';
import type { EventLoopLag, EventLoopMonitor } from './event-loop.js';

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
    database: { status: CheckStatus; latencyMs?: number; error?: string };
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

export interface HealthSources {
  /** The journal; probed with a real query. */
  store: Pick<Store, 'listRuns'>;
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
  /** Applied to the journal's error (GET /health needs no token). Default: the redactor of `env`. */
  redact?: Redactor;
}

export const DATABASE_TIMEOUT_MS = 5000;

export async function checkHealth(sources: HealthSources): Promise<HealthReport> {
  const env = sources.env ?? process.env;
  const database = await checkDatabase(sources.store, sources.databaseTimeoutMs ?? DATABASE_TIMEOUT_MS);
  if (database.error) database.error = (sources.redact ?? createRedactor(env))(database.error);
  const providers = checkProviders(sources.gates, env);
  const heap = getHeapStatistics();
  const memoryUsage = process.memoryUsage();
  const heapUsedRatio = memoryUsage.heapUsed / heap.heap_size_limit;
  const lag = sources.eventLoop.sample();
  const checks: HealthReport['checks'] = {
    database,
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

/** Unhealthy when the journal is unreachable (nothing can run); degraded when anything else warns. */
function overall(checks: HealthReport['checks']): HealthStatus {
  const all = Object.values(checks).map((c) => c.status);
  if (checks.database.status === 'fail') return 'unhealthy';
  return all.some((s) => s !== 'ok') ? 'degraded' : 'healthy';
}

/**
 * A real query, bounded in time: a journal that hangs (a PostgreSQL server that accepts the
 * connection but never answers, a pool with no free connection) must make the probe say so, not
 * hang the probe — a load balancer's health check with it, or `elexirion health` for ever.
 */
async function checkDatabase(
  store: Pick<Store, 'listRuns'>,
  timeoutMs: number,
): Promise<HealthReport['checks']['database']> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the journal did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([store.listRuns({ limit: 1 }), timedOut]);
    return { status: 'ok', latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch (error) {
    return { status: 'fail', error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
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
