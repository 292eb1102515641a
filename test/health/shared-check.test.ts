// GET /health needs no token and its journal check writes beside the journal: probes that ask at
// the same time share one check (one write), and a check that has ended is never reused.
import { describe, expect, it } from 'vitest';
import { EventLoopMonitor } from '../../src/health/event-loop.js';
import { checkHealth, type HealthStore } from '../../src/health/health.js';
import { SharedCheck } from '../../src/health/shared-check.js';

/** A journal that counts its checks and answers each when told to. */
function countingStore() {
  const answers: Array<(error?: Error) => void> = [];
  const store: HealthStore & { probes: number } = {
    probes: 0,
    listRuns: async () => [],
    probeWrite() {
      store.probes++;
      return new Promise<void>((resolve, reject) => answers.push((error) => (error ? reject(error) : resolve())));
    },
  };
  return { store, answer: (error?: Error) => answers.shift()?.(error) };
}

describe('the journal check shared by concurrent health probes', () => {
  it('runs once for probes that ask while it is under way, and anew after it ended', async () => {
    const eventLoop = new EventLoopMonitor();
    try {
      const { store, answer } = countingStore();
      const databaseCheck = new SharedCheck();
      const probe = () => checkHealth({ store, eventLoop, env: {}, databaseCheck });
      const together = [probe(), probe(), probe(), probe(), probe()];
      await new Promise((resolve) => setImmediate(resolve));
      expect(store.probes).toBe(1);
      answer();
      const reports = await Promise.all(together);
      expect(reports.map((r) => r.checks.database.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);

      // Ended: the next probe checks again, and sees the journal refuse writes at once.
      const next = probe();
      await new Promise((resolve) => setImmediate(resolve));
      expect(store.probes).toBe(2);
      answer(new Error('EROFS: read-only file system'));
      expect((await next).status).toBe('unhealthy');
    } finally {
      eventLoop.stop();
    }
  });

  it("gives each probe its own copy of the check (one report's redaction is not another's)", async () => {
    const shared = new SharedCheck();
    let release = (): void => {};
    const check = () =>
      new Promise<{ status: 'fail'; error: string }>((resolve) => {
        release = () => resolve({ status: 'fail', error: 'key sk-secret' });
      });
    const a = shared.run(check);
    const b = shared.run(check);
    release();
    const [first, second] = await Promise.all([a, b]);
    first.error = '[redacted]';
    expect(second.error).toBe('key sk-secret');
  });
});
