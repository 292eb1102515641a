// `elexirion serve --cluster` as a real process beside a real worker process: the HTTP API submits
// runs to the cluster, streams their events from the shared journal, cancels and resumes them
// through the queue. Needs `npm run build` first.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { type ClusterHarness, clusterHarness, startServe } from './harness.js';

let h: ClusterHarness | undefined;
let stopServe: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stopServe?.();
  stopServe = undefined;
  await h?.cleanup();
  h = undefined;
});

/** `steps` mock steps in a row, `latency` each; prompts "TAG sN" show in the mock's call log. */
function stepsPipeline(steps: number, latency: string): string {
  const lines = ['name: serial', 'inputs:', '  tag: { type: string }', 'steps:'];
  for (let i = 1; i <= steps; i++) {
    lines.push(`  - name: s${i}`, '    type: mock', `    prompt: "{{ tag }} s${i}"`, `    latency: ${latency}`);
  }
  lines.push('outputs:', `  last: "{{ steps.s${steps}.output }}"`, '');
  return lines.join('\n');
}

describe('serve --cluster', () => {
  it('submits runs to a worker, streams their events from the journal, cancels and resumes them', async () => {
    h = await clusterHarness();
    const worker = await h.startWorker({}, ['--concurrency', '1']);
    h.write('serial.yaml', stepsPipeline(3, '100ms'));
    h.write('long.yaml', stepsPipeline(12, '250ms'));
    const serve = await startServe(h);
    stopServe = serve.stop;
    const { url } = serve;
    const post = async (path: string, body?: unknown) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const reader = new PostgresStore(h.db);
    const statusOf = async (id: string) => (await reader.getRun(id))?.status;
    const until = async (id: string, status: string, ms = 20_000) => {
      for (let t = 0; t < ms && (await statusOf(id)) !== status; t += 100) await sleep(100);
      return statusOf(id);
    };

    try {
      // A run goes to the worker; its event stream replays and follows the journal to the end.
      const submitted = await post('/runs', { file: 'serial.yaml', inputs: { tag: 'one' } });
      expect(submitted.status).toBe(202);
      const { run_id: id, status } = (await submitted.json()) as { run_id: string; status: string };
      expect(status).toBe('queued');
      const stream = await (await fetch(`${url}/runs/${id}/events`)).text(); // ends with the run
      const types = [...stream.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
      expect(types[0]).toBe('pipeline.execution.start');
      expect(types.filter((t) => t === 'pipeline.step.stop')).toHaveLength(3);
      expect(types.at(-1)).toBe('pipeline.execution.stop');
      // `SEQ@START-AT`: the seq, and the execution it belongs to (routes/event-id.ts).
      const ids = [...stream.matchAll(/^id: (\d+)@\d+-\d+$/gm)].map((m) => Number(m[1]));
      expect(ids.length).toBeGreaterThan(0);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      const result = (await (await fetch(`${url}/runs/${id}`)).json()) as { status: string; outputs: unknown };
      expect(result.status).toBe('succeeded');
      expect(result.outputs).toEqual({ last: expect.stringMatching(/./) });
      expect((await reader.getRun(id))?.metadata.pid).toBe(worker.child.pid); // the worker ran it

      // With one slot, `long` runs and `queued` waits: cancelling one stops it on the worker, the
      // other never starts.
      const long = (
        (await (await post('/runs', { file: 'long.yaml', inputs: { tag: 'long' } })).json()) as {
          run_id: string;
        }
      ).run_id;
      const queued = (
        (await (await post('/runs', { file: 'long.yaml', inputs: { tag: 'queued' } })).json()) as {
          run_id: string;
        }
      ).run_id;
      for (let i = 0; i < 100 && (await reader.getSteps(long)).length < 2; i++) await sleep(50);
      const cancelQueued = await post(`/runs/${queued}/cancel`);
      expect(cancelQueued.status).toBe(200);
      expect(await cancelQueued.json()).toMatchObject({ status: 'cancelled' });
      expect(await statusOf(queued)).toBe('cancelled');
      const cancelLong = await post(`/runs/${long}/cancel`);
      expect(cancelLong.status).toBe(202);
      expect(await cancelLong.json()).toMatchObject({ status: 'cancelling' });
      expect(await until(long, 'cancelled', 5_000)).toBe('cancelled');
      const doneBeforeCancel = (await reader.getSteps(long)).filter((s) => s.status === 'succeeded').length;
      expect(doneBeforeCancel).toBeLessThan(12);
      expect((await post(`/runs/${long}/cancel`)).status).toBe(409); // nothing left to cancel

      // Resumed, both finish on the worker; the long run's finished steps are not run again.
      expect((await post(`/runs/${long}/resume`)).status).toBe(202);
      expect((await post(`/runs/${queued}/resume`)).status).toBe(202);
      expect(await until(long, 'succeeded')).toBe('succeeded');
      expect(await until(queued, 'succeeded')).toBe('succeeded');
      expect((await post(`/runs/${long}/resume`)).status).toBe(409); // succeeded: nothing to resume
      const prompts = readFileSync(h.callLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).prompt as string);
      for (let i = 1; i <= 12; i++) {
        expect(prompts.filter((p) => p === `queued s${i}`)).toHaveLength(1);
        // The step in flight at the cancel may have been answered and then run again.
        const longCalls = prompts.filter((p) => p === `long s${i}`).length;
        expect(longCalls).toBeGreaterThanOrEqual(1);
        expect(longCalls).toBeLessThanOrEqual(i === doneBeforeCancel + 1 ? 2 : 1);
      }
    } finally {
      await reader.close();
    }
  }, 90_000);
});
