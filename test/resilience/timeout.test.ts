import { describe, expect, it } from 'vitest';
import { resolveGateOptions } from '../../src/resilience/gate-options.js';
import { ProviderGate } from '../../src/resilience/provider-gate.js';
import { answer, StubProvider, waitOrAbort } from './stub-provider.js';

const once = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, jitter: false };

describe('attempt timeout', () => {
  it('aborts the provider call at the deadline and fails with a timeout ProviderError', async () => {
    const gate = new ProviderGate('stub', resolveGateOptions('stub'));
    const provider = new StubProvider(async (_n, signal) => {
      await waitOrAbort(5_000, signal);
      return answer();
    });
    const started = Date.now();
    await expect(
      gate.execute((signal) => provider.generate({} as never, signal), {
        signal: new AbortController().signal,
        timeoutMs: 40,
        retry: once,
      }),
    ).rejects.toMatchObject({ kind: 'timeout', providerFault: true, retryable: true });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(provider.signals[0]?.aborted).toBe(true);
  });

  it('the provider timeout caps a longer step timeout', async () => {
    const gate = new ProviderGate('stub', resolveGateOptions('stub', { timeout: '30ms' }));
    const provider = new StubProvider(async (_n, signal) => {
      await waitOrAbort(5_000, signal);
      return answer();
    });
    await expect(
      gate.execute((signal) => provider.generate({} as never, signal), {
        signal: new AbortController().signal,
        timeoutMs: 60_000,
        retry: once,
      }),
    ).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('each attempt gets its own deadline: a slow first attempt is retried', async () => {
    const gate = new ProviderGate('stub', resolveGateOptions('stub'));
    const provider = new StubProvider(async (n, signal) => {
      await waitOrAbort(n === 1 ? 5_000 : 1, signal);
      return answer('second');
    });
    await expect(
      gate.execute((signal) => provider.generate({} as never, signal), {
        signal: new AbortController().signal,
        timeoutMs: 40,
        retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, jitter: false },
      }),
    ).resolves.toMatchObject({ text: 'second' });
    expect(provider.calls).toBe(2);
  });

  it('cancelling the run aborts the request in flight, without a retry', async () => {
    const gate = new ProviderGate('stub', resolveGateOptions('stub'));
    const provider = new StubProvider(async (_n, signal) => {
      await waitOrAbort(5_000, signal);
      return answer();
    });
    const controller = new AbortController();
    const pending = gate.execute((signal) => provider.generate({} as never, signal), { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ kind: 'aborted' });
    expect(provider.signals[0]?.aborted).toBe(true);
    expect(provider.calls).toBe(1);
  });
});
