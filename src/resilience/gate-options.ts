// A provider gate's limits, resolved from the pipeline's `providers.<name>` section and the
// defaults below. Durations arrive as the format writes them (`30s`) and leave as milliseconds.

import { parseDuration } from '../config/duration.js';
import type { ProviderConfig } from '../config/schema.js';
import type { RateLimitOptions } from './rate-limiter.js';

export interface GateOptions {
  maxConcurrency: number;
  maxQueue: number;
  failureThreshold: number;
  recoveryTimeoutMs: number;
  /**
   * The attempt timeout the provider declares (`timeout:`): it caps a longer one the call asks for.
   * None when the pipeline declares none — then the call's own (its step's) decides, and a step
   * `timeout: 15m` gets fifteen minutes, not the 300 s default (GATE_DEFAULTS.timeoutMs).
   */
  timeoutMs?: number;
  rateLimit?: RateLimitOptions;
}

/** Concurrency per built-in provider type: what their standard tiers tolerate without a 429 storm. */
const DEFAULT_CONCURRENCY: Record<string, number> = {
  anthropic: 10,
  gemini: 15,
  // The mock is in-process: no account to protect, so only a batch's own max_parallel bounds it.
  mock: 10_000,
};

export const GATE_DEFAULTS = {
  maxConcurrency: 10,
  maxQueue: 1000,
  failureThreshold: 5,
  recoveryTimeoutMs: 30_000,
  /**
   * An attempt's timeout when neither its provider nor its call sets one: the step default
   * (DESIGN.md: every step has a 300 s timeout). Never a cap on a timeout a step declares.
   */
  timeoutMs: 300_000,
} as const;

export function resolveGateOptions(provider: string, config: ProviderConfig = {}): GateOptions {
  const type = config.type ?? provider;
  const options: GateOptions = {
    maxConcurrency: config.max_concurrency ?? DEFAULT_CONCURRENCY[type] ?? GATE_DEFAULTS.maxConcurrency,
    maxQueue: config.max_queue ?? GATE_DEFAULTS.maxQueue,
    failureThreshold: config.circuit_breaker?.failure_threshold ?? GATE_DEFAULTS.failureThreshold,
    recoveryTimeoutMs:
      config.circuit_breaker?.recovery_timeout === undefined
        ? GATE_DEFAULTS.recoveryTimeoutMs
        : parseDuration(config.circuit_breaker.recovery_timeout),
  };
  if (config.timeout !== undefined) options.timeoutMs = parseDuration(config.timeout);
  const limit = config.rate_limit;
  if (limit && (limit.requests_per_minute !== undefined || limit.tokens_per_minute !== undefined)) {
    options.rateLimit = {
      ...(limit.requests_per_minute === undefined ? {} : { requestsPerMinute: limit.requests_per_minute }),
      ...(limit.tokens_per_minute === undefined ? {} : { tokensPerMinute: limit.tokens_per_minute }),
    };
  }
  return options;
}
