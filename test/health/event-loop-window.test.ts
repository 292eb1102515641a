// Many readers probe one server's health: its load balancer, a liveness probe, every open dashboard
// (each every 3 s). A lag must be reported to each of them while it is recent — not only to the
// first probe after it, which used to reset the measure for everyone else — and forgotten once
// two windows have passed without one.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { EventLoopMonitor } from '../../src/health/event-loop.js';
import { checkHealth } from '../../src/health/health.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';

/** Blocks the event loop for `ms`, as a synchronous hot path would. */
function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy
  }
}

describe('event-loop lag in the health report', () => {
  it('is reported to every probe of the window, not only to the first one', async () => {
    const eventLoop = new EventLoopMonitor(1);
    const store = new SqliteStore(':memory:');
    try {
      await sleep(20);
      block(150);
      await sleep(20);
      const probe = () => checkHealth({ store, eventLoop, env: {}, maxLagMs: 50 });
      const first = await probe();
      const second = await probe();
      const third = await probe();
      for (const report of [first, second, third]) {
        expect(report.checks.eventLoop.status).toBe('warn');
        expect(report.checks.eventLoop.maxMs).toBeGreaterThan(100);
        expect(report.status).toBe('degraded');
      }
    } finally {
      eventLoop.stop();
      await store.close();
    }
  });

  it('is forgotten once the window it happened in and the next one are over', async () => {
    const windowMs = 1000;
    const eventLoop = new EventLoopMonitor(1, windowMs);
    const store = new SqliteStore(':memory:');
    try {
      await sleep(20);
      block(300);
      await sleep(5);
      const probe = () => checkHealth({ store, eventLoop, env: {}, maxLagMs: 200 });
      // In the window it happened in…
      expect((await probe()).checks.eventLoop.maxMs).toBeGreaterThan(250);
      // …still in the next one, where that window is the previous (its p99 is diluted by then: the
      // block is one sample among hundreds; its max is not)…
      await sleep(windowMs);
      expect((await probe()).checks.eventLoop.maxMs).toBeGreaterThan(250);
      // …and no longer after that.
      await sleep(windowMs);
      const later = await probe();
      expect(later.checks.eventLoop.maxMs).toBeLessThan(200);
      expect(later.status).toBe('healthy');
    } finally {
      eventLoop.stop();
      await store.close();
    }
  });
});
