import { describe, expect, it } from 'vitest';
import { resolveGateOptions } from '../../src/resilience/gate-options.js';
import type { RetryNotice } from '../../src/resilience/provider-gate.js';
import { ProviderGate } from '../../src/resilience/provider-gate.js';
import type { RetryOptions } from '../../src/resilience/retry.js';
import { answer, fault, StubProvider } from './stub-provider.js';

const fast: RetryOptions = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20, jitter: true };

function gate() {
  return new ProviderGate('stub', resolveGateOptions('stub'));
}

describe('retry', () => {
  it('retries a retryable fault with backoff, then returns the answer', async () => {
    const provider = new StubProvider(async (call) => {
      if (call < 3) throw fault('server', { status: 500 });
      return answer('third time');
    });
    const notices: RetryNotice[] = [];
    const result = await gate().execute((signal) => provider.generate({} as never, signal), {
      signal: new AbortController().signal,
      retry: fast,
      onRetry: (notice) => notices.push(notice),
    });
    expect(result.text).toBe('third time');
    expect(provider.calls).toBe(3);
    expect(notices.map((n) => n.attempt)).toEqual([2, 3]);
    for (const n of notices) expect(n.delayMs).toBeLessThanOrEqual(20);
  });

  it('gives up after max_attempts and throws the last fault', async () => {
    const provider = new StubProvider(async () => {
      throw fault('overloaded', { status: 529 });
    });
    await expect(
      gate().execute((signal) => provider.generate({} as never, signal), {
        signal: new AbortController().signal,
        retry: fast,
      }),
    ).rejects.toMatchObject({ kind: 'overloaded' });
    expect(provider.calls).toBe(3);
  });

  it('never retries a user error (400) or an auth error', async () => {
    for (const kind of ['bad_request', 'auth'] as const) {
      const provider = new StubProvider(async () => {
        throw fault(kind, { status: 400 });
      });
      await expect(
        gate().execute((signal) => provider.generate({} as never, signal), {
          signal: new AbortController().signal,
          retry: fast,
        }),
      ).rejects.toMatchObject({ kind });
      expect(provider.calls).toBe(1);
    }
  });

  it('waits what retry-after asks instead of the backoff', async () => {
    const provider = new StubProvider(async (call) => {
      if (call === 1) throw fault('rate_limited', { status: 429, retryAfterMs: 150 });
      return answer();
    });
    const notices: RetryNotice[] = [];
    const started = Date.now();
    await gate().execute((signal) => provider.generate({} as never, signal), {
      signal: new AbortController().signal,
      retry: { ...fast, baseDelayMs: 1, maxDelayMs: 2 },
      onRetry: (notice) => notices.push(notice),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(notices[0]?.delayMs).toBe(150);
  });

  it('does not retry when the provider asks to wait longer than the cap', async () => {
    const provider = new StubProvider(async () => {
      throw fault('rate_limited', { status: 429, retryAfterMs: 10 * 60_000 });
    });
    await expect(
      gate().execute((signal) => provider.generate({} as never, signal), {
        signal: new AbortController().signal,
        retry: fast,
      }),
    ).rejects.toMatchObject({ kind: 'rate_limited' });
    expect(provider.calls).toBe(1);
  });

  it('a cancelled run stops waiting for the next attempt at once', async () => {
    const provider = new StubProvider(async () => {
      throw fault('server', { status: 500, retryAfterMs: 5_000 });
    });
    const controller = new AbortController();
    const started = Date.now();
    const pending = gate().execute((signal) => provider.generate({} as never, signal), {
      signal: controller.signal,
      retry: fast,
      onRetry: () => setTimeout(() => controller.abort(), 20),
    });
    await expect(pending).rejects.toMatchObject({ kind: 'aborted' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(provider.calls).toBe(1);
  });
});
