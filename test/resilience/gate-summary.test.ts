// summary() (metrics, /health) reports a provider name's worst gate; a breaker whose recovery
// timeout has passed lets the next call through, so it reports half-open — a gate nobody calls any
// more does not keep its name 'open' (and /health degraded) for the life of the process.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { checkHealth } from '../../src/health/health.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';

it('a dead, unused configuration does not keep its provider name open after its recovery timeout', async () => {
  const registry = new GateRegistry();
  const signal = new AbortController().signal;
  const retry = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, jitter: false };
  // The gate every run uses: healthy.
  const main = registry.forPipeline(undefined).gate('openai');
  await main.execute(async () => 'ok', { signal, retry });
  // A one-off pipeline pointing openai at a server that was down.
  const oneOff = registry
    .forPipeline({
      openai: {
        base_url: 'http://gpu-box:8000/v1',
        circuit_breaker: { failure_threshold: 1, recovery_timeout: '50ms' },
      },
    })
    .gate('openai');
  await oneOff
    .execute(
      async () => {
        throw new ProviderError('openai', 'connection', 'ECONNREFUSED');
      },
      { signal, retry },
    )
    .catch(() => {});
  await sleep(200); // well past its recovery timeout; nobody calls it again
  await main.execute(async () => 'ok', { signal, retry }); // the real traffic keeps succeeding
  expect(registry.summary().find((s) => s.provider === 'openai')?.circuit).not.toBe('open');
  const health = await checkHealth({
    store: { listRuns: async () => [] },
    gates: registry,
    eventLoop: { recent: () => ({ p50Ms: 0, p99Ms: 0, maxMs: 0 }) } as never,
    env: {},
  });
  expect(health.checks.providers.status).toBe('ok');
});
