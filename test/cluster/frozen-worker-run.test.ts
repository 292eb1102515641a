// A run whose worker is frozen (alive: SIGSTOP here) past a few job locks is handed to worker B on
// the same host, whose resume is refused — the run's owner still lives. That is no failed attempt:
// B's job waits and asks again, and takes the run once A, running again, has given it up (its lock
// lost: A stops it rather than run it beside B) — or ends with the run's status had A finished it,
// or takes the run if A died. It used to fail the job's attempts: `run --cluster` said "the
// cluster gave up" while the run went on and succeeded, and had A died, no worker would have taken
// the run again. Needs `npm run build`.
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { type ClusterHarness, clusterHarness, REDIS_URL, runCli } from './harness.js';

let h: ClusterHarness | undefined;
afterEach(async () => {
  for (const w of h?.workers ?? []) if (w.child.exitCode === null) w.child.kill('SIGCONT');
  await h?.cleanup();
  h = undefined;
});

describe('a worker frozen mid-run', () => {
  it('does not make the cluster give up on a run that goes on', async () => {
    h = await clusterHarness();
    const a = await h.startWorker({}, ['--concurrency', '1']);
    const file = h.write(
      'p.yaml',
      ['name: slow', 'steps:', '  - name: slow', '    type: mock', '    prompt: "slow"', '    latency: 3s', ''].join(
        '\n',
      ),
    );
    const run = runCli(['run', file, '--cluster'], h.env);
    const reader = new PostgresStore(h.db);
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const runs = new Queue('runs', { connection: redis, prefix: h.prefix });
    try {
      await sleep(1_500); // A has the run, mid-call
      await h.startWorker({}, ['--concurrency', '1']);
      a.child.kill('SIGSTOP');
      await sleep(9_000);
      a.child.kill('SIGCONT');
      const done = await run.done;
      await sleep(4_000); // A finishes the run after it thaws
      const [record] = await reader.listRuns({ limit: 1 });
      const job = await runs.getJob(record?.id as string);
      console.log(
        'follower exit',
        done.code,
        done.stderr.split('\n').filter((l) => /error|✓/.test(l)),
      );
      console.log('journal:', record?.status, '| run job:', await job?.getState(), job?.failedReason);
      console.log('B:', h.workers[1]?.stderr());
      expect(done.code, done.stderr).toBe(0);
    } finally {
      await runs.close();
      redis.disconnect();
      await reader.close();
    }
  }, 90_000);
});
