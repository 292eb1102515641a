// A worker alive but frozen for a few seconds (SIGSTOP/SIGCONT here; in production a paused VM, a
// CPU-throttled container, a long pause) past its chunk's lock: BullMQ hands the chunk to worker B,
// which starts it. When A runs again it gives the chunk up — its freeze watch sees the gap, and
// BullMQ's lockRenewalFailed says so too — instead of going on with the same items as B: only the
// calls in flight at the freeze may be paid twice. (Before, A never learnt it had lost the chunk,
// and items were called twice.) Needs `npm run build` (spawns bin/elexirion.js workers). Short
// clocks from the test harness: lock 1 s, heartbeat 0.3 s.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { readHeartbeats } from '../../src/cluster/heartbeat.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { batchPipeline, type ClusterHarness, callsPerItem, clusterHarness, REDIS_URL, runCli } from './harness.js';

let h: ClusterHarness | undefined;
afterEach(async () => {
  for (const w of h?.workers ?? []) if (w.child.exitCode === null) w.child.kill('SIGCONT');
  await h?.cleanup();
  h = undefined;
});

const ITEMS = 40;

describe('a worker frozen mid-chunk', () => {
  it('does not have its chunk run by a second worker at the same time', async () => {
    h = await clusterHarness();
    const env = { ELEXIRION_CLUSTER_CHUNK: '20' };
    const a = await h.startWorker(env, ['--concurrency', '1']);
    const file = h.write('p.yaml', batchPipeline(ITEMS, { latency: '300ms', maxParallel: 1 }));
    const run = runCli(['run', file, '--cluster'], { ...h.env, ...env });
    const reader = new PostgresStore(h.db);
    const redis = new Redis(REDIS_URL);
    try {
      // A runs the run and chunk 0 (items 0-9); wait until it has journaled two of them.
      for (let i = 0; i < 400; i++) {
        const [r] = await reader.listRuns({ limit: 1 });
        if (r && (await reader.countItems(r.id, 'fan')).succeeded >= 2) break;
        await sleep(50);
      }
      const beats = await readHeartbeats(redis, h.prefix);
      console.log(
        'A holds',
        beats.map((b) => b.holds),
      );
      await h.startWorker(env, ['--concurrency', '2']); // B: takes chunk 10 at once, and chunk 0 once it stalls
      a.child.kill('SIGSTOP'); // A alive but frozen...
      await sleep(5_000);
      a.child.kill('SIGCONT'); // ...and back
      const done = await run.done;
      console.log('run exit', done.code, done.stderr.slice(-400));
      // A goes on after it thaws: wait for the run's end in the journal, and a moment more.
      let status = '';
      for (let i = 0; i < 300; i++) {
        const [r] = await reader.listRuns({ limit: 1 });
        status = r?.status ?? '';
        if (status !== 'running' && status !== '') break;
        await sleep(100);
      }
      await sleep(3_000);
      console.log('run status in the journal:', status);
      const calls = callsPerItem(readFileSync(h.callLog, 'utf8'));
      const twice = [...calls]
        .filter(([, n]) => n > 1)
        .map(([i]) => i)
        .sort((x, y) => x - y);
      console.log('items called more than once:', twice, 'A stderr:', a.stderr(), 'B stderr:', h.workers[1]?.stderr());
      // At most the one item A had in flight when it froze may be repeated.
      expect(twice.length).toBeLessThanOrEqual(1);
    } finally {
      redis.disconnect();
      await reader.close();
    }
  }, 90_000);
});
