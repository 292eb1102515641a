// The shared rate limit on the real Redis, in-process: two "workers" (two SharedRateLimits on one
// prefix) draw on one window, with a short window so that the test can watch it slide.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedRateLimits } from '../../src/cluster/shared-rate-limits.js';
import { resolveGateOptions } from '../../src/resilience/gate-options.js';
import { REDIS_URL } from './harness.js';

const WINDOW_MS = 600;
const connections: Redis[] = [];
afterEach(() => {
  for (const redis of connections.splice(0)) redis.disconnect();
});

function limits(prefix: string): SharedRateLimits {
  const redis = new Redis(REDIS_URL);
  connections.push(redis);
  return new SharedRateLimits(redis, prefix, WINDOW_MS);
}

const signal = () => new AbortController().signal;

describe('shared rate limits', () => {
  it('admits requests_per_minute across workers together, then the next as the window slides', async () => {
    const prefix = `elxtest-rate-${randomUUID()}`;
    const options = resolveGateOptions('anthropic', { rate_limit: { requests_per_minute: 3 } });
    const a = limits(prefix).factory('anthropic', options);
    const b = limits(prefix).factory('anthropic', options);
    const t0 = Date.now();
    await a?.acquire(0, signal());
    await b?.acquire(0, signal());
    await a?.acquire(0, signal());
    expect(Date.now() - t0).toBeLessThan(WINDOW_MS / 2);
    await b?.acquire(0, signal()); // the fourth waits for the first to leave the window
    expect(Date.now() - t0).toBeGreaterThanOrEqual(WINDOW_MS - 50);
  });

  it('holds tokens_per_minute, corrected by the real usage, and a released call gives its share back', async () => {
    const prefix = `elxtest-rate-${randomUUID()}`;
    const options = resolveGateOptions('anthropic', { rate_limit: { tokens_per_minute: 1000 } });
    const a = limits(prefix).factory('anthropic', options);
    const b = limits(prefix).factory('anthropic', options);
    const t0 = Date.now();
    const first = await a?.acquire(600, signal());
    const turnedAway = await b?.acquire(300, signal());
    if (turnedAway) b?.release(turnedAway); // never reached the provider
    if (first) a?.settle(first, 100); // it used less than estimated
    await new Promise((r) => setTimeout(r, 20)); // settle and release are fire-and-forget
    await b?.acquire(800, signal()); // 100 + 800 fits
    expect(Date.now() - t0).toBeLessThan(WINDOW_MS / 2);
    await a?.acquire(200, signal()); // 900 + 200 does not: it waits for the window
    expect(Date.now() - t0).toBeGreaterThanOrEqual(WINDOW_MS - 50);
  });

  it('adds no Redis round trip for a provider without a rate_limit', () => {
    expect(
      limits(`elxtest-rate-${randomUUID()}`).factory('anthropic', resolveGateOptions('anthropic')),
    ).toBeUndefined();
  });
});
