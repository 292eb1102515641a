import { describe, expect, it } from 'vitest';
import { resolveCacheTtl } from '../../src/journal/call-cache.js';
import { resolveGateOptions } from '../../src/resilience/gate-options.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { resolveRetryOptions } from '../../src/resilience/retry.js';

describe('gate options', () => {
  it('defaults per provider type: anthropic 10, gemini 15, others 10', () => {
    expect(resolveGateOptions('anthropic').maxConcurrency).toBe(10);
    expect(resolveGateOptions('gemini').maxConcurrency).toBe(15);
    expect(resolveGateOptions('openai').maxConcurrency).toBe(10);
    // A user-declared provider takes the default of its type.
    expect(resolveGateOptions('vertex', { type: 'gemini' }).maxConcurrency).toBe(15);
    expect(resolveGateOptions('anthropic')).toMatchObject({
      maxQueue: 1000,
      failureThreshold: 5,
      recoveryTimeoutMs: 30_000,
    });
    expect(resolveGateOptions('anthropic').rateLimit).toBeUndefined();
    // No timeout declared, none filled in: the 300 s default must not cap a longer step timeout.
    expect(resolveGateOptions('anthropic').timeoutMs).toBeUndefined();
  });

  it('reads providers.<name> with durations', () => {
    expect(
      resolveGateOptions('anthropic', {
        max_concurrency: 4,
        max_queue: 7,
        timeout: '90s',
        circuit_breaker: { failure_threshold: 2, recovery_timeout: '1m' },
        rate_limit: { requests_per_minute: 50 },
      }),
    ).toEqual({
      maxConcurrency: 4,
      maxQueue: 7,
      failureThreshold: 2,
      recoveryTimeoutMs: 60_000,
      timeoutMs: 90_000,
      rateLimit: { requestsPerMinute: 50 },
    });
  });

  it('retry: the step over the defaults over the built-in defaults', () => {
    expect(resolveRetryOptions()).toEqual({ maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 30_000, jitter: true });
    expect(resolveRetryOptions({ max_attempts: 5 }, { max_attempts: 2, base_delay: '250ms', jitter: false })).toEqual({
      maxAttempts: 5,
      baseDelayMs: 250,
      maxDelayMs: 30_000,
      jitter: false,
    });
  });

  it('cache TTL: default 1 h, `cache: false` off, the step over the defaults', () => {
    expect(resolveCacheTtl()).toBe(3_600_000);
    expect(resolveCacheTtl(true)).toBe(3_600_000);
    expect(resolveCacheTtl(false, { ttl: '5m' })).toBe(false);
    expect(resolveCacheTtl(undefined, { ttl: '5m' })).toBe(300_000);
    expect(resolveCacheTtl({ ttl: '10s' }, false)).toBe(10_000);
  });
});

describe('GateRegistry', () => {
  it('gate(name) on the registry itself: its own declarations, kept once the gate is asked for', () => {
    const registry = new GateRegistry(undefined, { anthropic: { max_concurrency: 2 } });
    const gate = registry.gate('anthropic');
    expect(registry.gate('anthropic')).toBe(gate);
    expect(gate.options.maxConcurrency).toBe(2);
    registry.configure({ anthropic: { max_concurrency: 9 }, gemini: { max_concurrency: 3 } });
    expect(registry.gate('anthropic').options.maxConcurrency).toBe(2);
    expect(registry.gate('gemini').options.maxConcurrency).toBe(3);
    expect(registry.gate('openai').options.maxConcurrency).toBe(10);
    expect(registry.all()).toHaveLength(3);
  });
});
