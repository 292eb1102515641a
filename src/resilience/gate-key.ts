// What makes two gates the same gate: the provider name, the endpoint it reaches and the limits it
// enforces (see gate-registry.ts for why). Pure functions: the same pipeline gives the same key in
// every process, so cluster workers agree on it.
import { createHash } from 'node:crypto';
import type { ProviderConfig } from '../config/schema.js';
import { normalizeUrl } from '../providers/base-url.js';
import type { GateOptions } from './gate-options.js';

export interface GateIdentity {
  /** Everything that tells this gate from another: name, endpoint and limits. */
  key: string;
  /** The name and endpoint alone (type, base URL, key variable): two gates of one endpoint share an account. */
  endpoint: string;
}

export function gateIdentity(provider: string, config: ProviderConfig | undefined, options: GateOptions): GateIdentity {
  const endpoint = declaredEndpoint(provider, config);
  const key = `${endpoint}${JSON.stringify(limitsOf(options))}`;
  return { key, endpoint };
}

/**
 * Where a declaration of `provider` sends its calls, and with which key: its name, type, base URL
 * (normalized) and key variable. Unset ones read the environment, the same for every pipeline of
 * the process. One provider instance (run-provider.ts) and one gate family per value.
 */
export function declaredEndpoint(provider: string, config: ProviderConfig | undefined): string {
  return JSON.stringify([
    provider,
    config?.type ?? provider,
    config?.base_url === undefined ? null : normalizeUrl(config.base_url),
    config?.api_key_env ?? null,
  ]);
}

/** A short, stable digest of a gate's key, for names outside the process (Redis keys in cluster mode). */
export function gateId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** The limits in a fixed order (GateOptions built elsewhere may list their fields in another). */
function limitsOf(o: GateOptions): unknown[] {
  return [
    o.maxConcurrency,
    o.maxQueue,
    o.failureThreshold,
    o.recoveryTimeoutMs,
    // Declared or not, not only how long: a declared timeout caps a longer step timeout, the
    // default does not (gate-options.ts), so a `timeout: 300s` spelled out is another gate.
    o.timeoutMs ?? null,
    o.rateLimit?.requestsPerMinute ?? null,
    o.rateLimit?.tokensPerMinute ?? null,
  ];
}

/** The settings two gate configurations disagree on, as the pipeline writes them: `max_concurrency 20 / 2`. */
export function describeDifference(a: GateOptions, b: GateOptions): string {
  const count = (value: number | undefined) => (value === undefined ? 'none' : String(value));
  const duration = (ms: number | undefined) =>
    ms === undefined ? 'none' : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
  const fields: Array<[string, (o: GateOptions) => number | undefined, (value: number | undefined) => string]> = [
    ['max_concurrency', (o) => o.maxConcurrency, count],
    ['max_queue', (o) => o.maxQueue, count],
    ['timeout', (o) => o.timeoutMs, duration],
    ['circuit_breaker.failure_threshold', (o) => o.failureThreshold, count],
    ['circuit_breaker.recovery_timeout', (o) => o.recoveryTimeoutMs, duration],
    ['rate_limit.requests_per_minute', (o) => o.rateLimit?.requestsPerMinute, count],
    ['rate_limit.tokens_per_minute', (o) => o.rateLimit?.tokensPerMinute, count],
  ];
  return fields
    .filter(([, read]) => read(a) !== read(b))
    .map(([name, read, show]) => `${name} ${show(read(a))} / ${show(read(b))}`)
    .join(', ');
}
