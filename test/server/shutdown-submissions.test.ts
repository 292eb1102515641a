// A shutdown interrupts every active run. A submission already under way when it begins (its run
// being journaled) must not slip past it: its run would start after `stopAll`, outside the drain,
// and keep running — still `running` in the journal — while the server closes. And once the
// shutdown has begun, no new run starts at all.
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { RunRecord } from '../../src/journal/store.js';
import { startHarness } from './harness.js';

describe('shutdown and the runs being submitted', () => {
  it('interrupts a run whose submission was under way, and refuses new ones with 503', async () => {
    const store = new SqliteStore(':memory:');
    // The journal write of a new run waits until the test lets it go.
    let entered!: () => void;
    const inCreate = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const createRun = store.createRun.bind(store);
    store.createRun = async (record: RunRecord) => {
      entered();
      await held;
      return createRun(record);
    };
    const h = await startHarness({ store });
    try {
      const submitted = h.call('/runs', { json: { file: 'pipelines/very-slow.yaml', mock: true } });
      await inCreate;
      const stopping = h.service.shutdown(5000);
      const late = await h.call('/runs', { json: { file: 'pipelines/very-slow.yaml', mock: true } }).catch(() => null);
      release();
      const accepted = await submitted;
      expect(accepted.status).toBe(202);
      const { run_id } = (await accepted.json()) as { run_id: string };
      const { interrupted } = await stopping;

      expect(interrupted).toBe(1);
      expect(h.service.engine.activeRuns).toBe(0);
      expect((await store.getRun(run_id))?.status).toBe('interrupted');
      // The late request: refused (503) if it got through before the listener closed, else no connection.
      if (late) expect(late.status).toBe(503);
      expect((await store.listRuns({ limit: 10 })).map((run) => run.id)).toEqual([run_id]);
    } finally {
      release();
      await h.close();
      await store.close();
    }
  }, 20_000);
});
