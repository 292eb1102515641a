import { describe, expect, it } from 'vitest';
import { resolveGateOptions } from '../../src/resilience/gate-options.js';
import { ProviderGate } from '../../src/resilience/provider-gate.js';
import { RateLimiter } from '../../src/resilience/rate-limiter.js';
import { StubProvider } from './stub-provider.js';

describe('RateLimiter', () => {
  it('lets requests_per_minute through, then says how long until the oldest leaves the window', async () => {
    let now = 0;
    const limiter = new RateLimiter({ requestsPerMinute: 2 }, () => now);
    const signal = new AbortController().signal;
    await limiter.acquire(0, signal);
    now = 10_000;
    await limiter.acquire(0, signal);
    expect(limiter.waitMs(0)).toBe(50_000);
    now = 60_000;
    expect(limiter.waitMs(0)).toBe(0);
  });

  it('counts tokens per minute and corrects the estimate with the real usage', async () => {
    let now = 0;
    const limiter = new RateLimiter({ tokensPerMinute: 1000 }, () => now);
    const signal = new AbortController().signal;
    const first = await limiter.acquire(800, signal);
    expect(limiter.waitMs(300)).toBe(60_000);
    limiter.settle(first, 500); // the call used less than estimated
    expect(limiter.waitMs(300)).toBe(0);
    now = 1;
    expect(limiter.waitMs(600)).toBe(59_999);
  });

  it('a call larger than the whole allowance runs alone rather than never', () => {
    const limiter = new RateLimiter({ tokensPerMinute: 100 });
    expect(limiter.waitMs(5000)).toBe(0);
  });

  it('a released reservation gives its place back', async () => {
    const limiter = new RateLimiter({ requestsPerMinute: 1 });
    const r = await limiter.acquire(0, new AbortController().signal);
    expect(limiter.waitMs(0)).toBeGreaterThan(0);
    limiter.release(r);
    expect(limiter.waitMs(0)).toBe(0);
  });

  it('waits (does not fail) until the window allows, in real time', async () => {
    const limiter = new RateLimiter({ requestsPerMinute: 2 }, Date.now, 100);
    const signal = new AbortController().signal;
    const started = Date.now();
    for (let i = 0; i < 3; i++) await limiter.acquire(0, signal);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('a cancelled run stops waiting', async () => {
    const limiter = new RateLimiter({ requestsPerMinute: 1 });
    const controller = new AbortController();
    await limiter.acquire(0, controller.signal);
    const waiting = limiter.acquire(0, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toThrow();
  });
});

describe('rate limit in the gate', () => {
  it('a call over requests_per_minute waits for the window instead of failing or reaching the provider', async () => {
    const gate = new ProviderGate('stub', resolveGateOptions('stub', { rate_limit: { requests_per_minute: 2 } }));
    const provider = new StubProvider();
    const controller = new AbortController();
    const call = () => gate.execute((s) => provider.generate({} as never, s), { signal: controller.signal });
    await call();
    await call();
    let settled = false;
    const third = call().finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    expect(provider.calls).toBe(2);
    controller.abort();
    await expect(third).rejects.toMatchObject({ kind: 'aborted' });
    expect(provider.calls).toBe(2);
  });
});
