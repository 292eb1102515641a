// A run's worker A on another host is frozen (SIGSTOP here; a paused VM in production) past its job
// lock; worker B takes the run over from the journal — an owner on another host cannot be checked,
// so the engine takes it for gone. When A runs again it must give the run up: its freeze watch (or
// BullMQ's lockRenewalFailed) stops the execution, and the journal's fence refuses whatever A had
// under way, since B's claim. Only the call in flight at the freeze may be paid twice. (Before, A went
// on beside B: the same steps paid twice, both crashing on the events' primary key, and the run's
// final status written by whoever wrote last — `failed` when A's supervisor gave up last.)
// "Another host": worker A's os.hostname() answers `elexirion-host-a` (a preload), which is all the
// engine and the heartbeats know of a host. Needs `npm run build`. Lock 1 s, heartbeat 0.3 s.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { type ClusterHarness, clusterHarness, runCli } from './harness.js';

let h: ClusterHarness | undefined;
afterEach(async () => {
  for (const w of h?.workers ?? []) if (w.child.exitCode === null) w.child.kill('SIGCONT');
  await h?.cleanup();
  h = undefined;
});

const STEPS = 10;
const OTHER_HOST = 'elexirion-host-a';

describe('a worker on another host frozen mid-run', () => {
  it('gives the run up when it runs again, instead of running it beside its new owner', async () => {
    h = await clusterHarness();
    // ESM named imports of node:os follow the CommonJS module once synced: the whole process sees it.
    const preload = h.write(
      'other-host.cjs',
      `const os = require('node:os'); os.hostname = () => '${OTHER_HOST}'; require('node:module').syncBuiltinESMExports();\n`,
    );
    const a = await h.startWorker({ NODE_OPTIONS: `--require ${preload}` }, ['--concurrency', '1']);
    const steps = Array.from(
      { length: STEPS },
      (_, i) => `  - name: s${i}\n    type: mock\n    prompt: "step ${i}"\n    latency: 300ms\n`,
    );
    const file = h.write('serial.yaml', `name: serial\nsteps:\n${steps.join('')}`);
    const run = runCli(['run', file, '--cluster'], h.env);
    const reader = new PostgresStore(h.db);
    try {
      let runId = '';
      for (let i = 0; i < 400 && runId === ''; i++) {
        const [r] = await reader.listRuns({ limit: 1 });
        if (r && (await reader.getSteps(r.id)).length >= 2) runId = r.id;
        else await sleep(50);
      }
      expect((await reader.getRun(runId))?.metadata.host).toBe(OTHER_HOST);
      const b = await h.startWorker({}, ['--concurrency', '1']);
      a.child.kill('SIGSTOP');
      // B takes the run after about 2.5 s (the lock, the stalled check, A's heartbeat gone) and is
      // still running its steps when A thaws.
      for (let i = 0; i < 200 && !b.stderr().includes(`run ${runId} taken`); i++) await sleep(50);
      await sleep(700);
      a.child.kill('SIGCONT');
      const done = await run.done;
      await sleep(1_000); // what A would still do after its thaw
      const record = await reader.getRun(runId);
      const calls = new Map<string, number>();
      for (const line of readFileSync(h.callLog, 'utf8').split('\n').filter(Boolean)) {
        const prompt = JSON.parse(line).prompt as string;
        calls.set(prompt, (calls.get(prompt) ?? 0) + 1);
      }
      const twice = [...calls].filter(([, n]) => n > 1).map(([p]) => p);
      const diagnosis = `A: ${a.stderr()}\nB: ${b.stderr()}\nfollower: ${done.stderr}\ntwice: ${twice}`;
      expect(b.stderr(), diagnosis).toContain(`run ${runId} taken`);
      expect(a.stderr(), diagnosis).toContain(`run ${runId} given up`);
      expect(`${a.stderr()}${b.stderr()}`, diagnosis).not.toMatch(/events_pkey|crashed/);
      // Only the step in flight at the freeze is paid twice.
      expect(twice.length, diagnosis).toBeLessThanOrEqual(1);
      expect(done.code, diagnosis).toBe(0);
      expect(record?.status, diagnosis).toBe('succeeded');
      expect(record?.totals.calls, diagnosis).toBe(STEPS);
      // The journal's events are the executions' in turn, each seq once: none of A's after B's claim.
      const events = await reader.getEvents(runId);
      expect(events.filter((e) => e.type === 'pipeline.execution.stop').length, diagnosis).toBe(1);
    } finally {
      await reader.close();
    }
  }, 60_000);
});
