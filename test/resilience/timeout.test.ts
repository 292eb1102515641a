import { describe, expect, it, vi } from 'vitest';
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

  it('without a provider timeout, a step timeout past 300 s is not cut at the 300 s default', async () => {
    // A long non-streamed reasoning call answers after "500 s", on a fake clock. Before, the default
    // capped every attempt at 300 s: cut, retried, paid again, and the step failed at its timeout.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const think = () =>
        new StubProvider(async (_n, signal) => {
          await waitOrAbort(500_000, signal);
          return answer('thought it through');
        });
      const settle = async (pending: Promise<unknown>) => {
        const outcome = pending.then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
        await vi.advanceTimersByTimeAsync(500_000);
        return outcome;
      };

      // The step's own `timeout: 15m`: the attempt's timeout.
      const undeclared = new ProviderGate('stub', resolveGateOptions('stub'));
      const step = think();
      const stepTimeout = undeclared.execute((signal) => step.generate({} as never, signal), {
        signal: new AbortController().signal,
        timeoutMs: 900_000,
        retry: once,
      });
      expect(await settle(stepTimeout)).toEqual({ value: expect.objectContaining({ text: 'thought it through' }) });
      expect(step.calls).toBe(1);

      // A step under `defaults.timeout: 15m` (no timeout of its own): its deadline bounds the attempt.
      const underDefaults = think();
      const defaultsTimeout = undeclared.execute((signal) => underDefaults.generate({} as never, signal), {
        signal: new AbortController().signal,
        deadline: performance.now() + 900_000,
        retry: once,
      });
      expect(await settle(defaultsTimeout)).toEqual({
        value: expect.objectContaining({ text: 'thought it through' }),
      });
      expect(underDefaults.calls).toBe(1);

      // A provider that declares `timeout: 300s` still caps the step's 15 minutes.
      const declared = new ProviderGate('stub', resolveGateOptions('stub', { timeout: '300s' }));
      const capped = think();
      const cappedCall = declared.execute((signal) => capped.generate({} as never, signal), {
        signal: new AbortController().signal,
        timeoutMs: 900_000,
        retry: once,
      });
      expect(await settle(cappedCall)).toEqual({ error: expect.objectContaining({ kind: 'timeout' }) });
      expect(String((await cappedCall.catch((e: unknown) => e)) as Error)).toContain('no answer within 300000 ms');
    } finally {
      vi.useRealTimers();
    }
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
