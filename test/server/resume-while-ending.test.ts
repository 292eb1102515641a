// POST /runs/:id/resume while the run's previous execution is still ending: its final status is in
// the journal, its last events (written beside it — on PostgreSQL, by another query that may land
// later) not yet. The resume used to be accepted, and the old execution's cleanup then made the
// server forget the resumed one: cancel answered 409, its event stream ended at once, its events
// went unjournaled and a shutdown neither interrupted nor waited for it. It is refused (409, retry)
// until that execution is over; the run resumed then is the server's: cancellable, streamed,
// interrupted by a shutdown. The old execution's last events are held until the test lets them go.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { EventRecord } from '../../src/journal/store.js';
import { startHarness } from './harness.js';

const YAML = `name: ending
steps:
  - { name: a, type: mock, prompt: a, latency: 50ms }
  - { name: b, type: mock, prompt: b, latency: 10s }
  - { name: c, type: mock, prompt: c }
`;

async function until(what: string, probe: () => Promise<boolean> | boolean): Promise<void> {
  for (let t = 0; t < 10_000; t += 5) {
    if (await probe()) return;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a resume while the previous execution is still ending', () => {
  it('answers 409 until it is over; the run resumed then is cancellable, streamed and shut down', async () => {
    const store = new SqliteStore(':memory:');
    let hold = false;
    let entered!: () => void;
    const inAppend = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const appendEvents = store.appendEvents.bind(store);
    store.appendEvents = async (events: EventRecord[]) => {
      if (hold && events.some((e) => e.type === 'pipeline.execution.stop')) {
        hold = false;
        entered();
        await held;
      }
      return appendEvents(events);
    };
    const h = await startHarness({ store });
    const { engine } = h.service;
    try {
      const submitted = await h.call('/runs', { json: { yaml: YAML } });
      const { run_id: id } = (await submitted.json()) as { run_id: string };
      await until('step a', async () => (await store.getSteps(id)).length === 1);
      hold = true;
      expect((await h.call(`/runs/${id}/cancel`, { method: 'POST' })).status).toBe(202);
      await inAppend;
      await until('the final status', async () => (await store.getRun(id))?.status === 'cancelled');

      const early = await h.call(`/runs/${id}/resume`, { method: 'POST' });
      expect(early.status).toBe(409);
      expect(((await early.json()) as { error: string }).error).toMatch(/still ending/);

      release();
      await until('the execution to end', () => !engine.isActive(id));
      const resumed = await h.call(`/runs/${id}/resume`, { method: 'POST' });
      expect(resumed.status).toBe(202);
      expect(engine.isActive(id)).toBe(true);

      // Its event stream follows the resumed execution (step b running) until it is cancelled.
      const events = h.call(`/runs/${id}/events`).then((r) => r.text());
      await sleep(200);
      const cancel = await h.call(`/runs/${id}/cancel`, { method: 'POST' });
      expect(cancel.status).toBe(202);
      const text = await events;
      const types = [...text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
      expect(types.filter((t) => t === 'pipeline.execution.start')).toHaveLength(2);
      expect(types.filter((t) => t === 'pipeline.execution.stop')).toHaveLength(2);
      expect(types.at(-1)).toBe('pipeline.execution.stop');
      await until('the cancelled end', () => !engine.isActive(id));
      expect((await store.getRun(id))?.status).toBe('cancelled');

      // Resumed once more, then shut down: interrupted and waited for.
      expect((await h.call(`/runs/${id}/resume`, { method: 'POST' })).status).toBe(202);
      expect(await h.service.shutdown(5_000)).toEqual({ interrupted: 1, drained: true });
      expect((await store.getRun(id))?.status).toBe('interrupted');
      expect(engine.activeRuns).toBe(0);
    } finally {
      release();
      await h.close();
      await store.close();
    }
  }, 30_000);
});
