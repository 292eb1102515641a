// A resume asked while the run's previous execution is still ending in this process: its final
// status is journaled, its last events (written beside it, in parallel) are not yet — on a journal
// across a network, PostgreSQL, they may well land after the status. The resume used to be accepted
// (the status no longer said `running`): the old execution's cleanup, by run id, then removed the
// NEW execution from the engine's active runs — it went on untracked: not stoppable, not waited for
// by drain(), its events no longer journaled. Here the old execution's last events are held until
// the test releases them, so the race is deterministic.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RunStillRunningError } from '../../src/engine/errors.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { EventRecord, Store } from '../../src/journal/store.js';
import { newEngine, pipelineFile, tempDir } from './harness.js';

/** A gate a store method waits at: `entered` once a call reached it, `open()` lets it through. */
function gate() {
  let reached!: () => void;
  let opened!: () => void;
  const entered = new Promise<void>((r) => {
    reached = r;
  });
  const open = new Promise<void>((r) => {
    opened = r;
  });
  return { entered, reached, open: opened, opening: open };
}

const PIPELINE = `name: ending
steps:
  - { name: a, type: mock, prompt: a, response: A }
  - { name: b, type: mock, prompt: b, response: B, latency: 10s }
  - { name: c, type: mock, prompt: c, response: C }
`;

async function until(what: string, probe: () => Promise<boolean> | boolean): Promise<void> {
  for (let t = 0; t < 10_000; t += 5) {
    if (await probe()) return;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a resume while the previous execution is still ending', () => {
  it('is refused (still running) until that execution is over; the resumed run is then tracked', async () => {
    const raw = new SqliteStore(join(tempDir(), 'journal.db'));
    let held: ReturnType<typeof gate> | undefined;
    // The execution's last events (those written with its execution.stop) wait at the gate, after
    // its final status is written.
    const store = new Proxy(raw, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === 'appendEvents') {
          return async (events: EventRecord[]) => {
            const hold = held;
            if (hold && events.some((e) => e.type === 'pipeline.execution.stop')) {
              held = undefined;
              hold.reached();
              await hold.opening;
            }
            return target.appendEvents(events);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Store;
    const engine = newEngine({ store });
    const { load } = pipelineFile(PIPELINE);
    const first = await engine.start(load());
    const runId = first.runId;
    try {
      await until('step b to start', async () => (await raw.getSteps(runId)).some((s) => s.key === 'a'));
      held = gate();
      const ending = held;
      first.stop('cancelled');
      await ending.entered;
      await until('the final status', async () => (await raw.getRun(runId))?.status === 'cancelled');
      // The journal says cancelled; the execution is still ending here.
      expect(engine.isActive(runId)).toBe(true);

      const early = engine.resume(runId);
      early.then((h) => h.stop('interrupted')).catch(() => undefined); // the old code's resume: stop it
      await expect(early).rejects.toBeInstanceOf(RunStillRunningError);
      await expect(early).rejects.toThrow(/still ending/);

      ending.open();
      expect((await first.result).status).toBe('cancelled');
      expect(engine.isActive(runId)).toBe(false);
      expect(engine.activeRuns).toBe(0);

      // Now it resumes, and the resumed execution is the engine's: tracked, stoppable, journaled.
      const seqBefore = await raw.lastEventSeq(runId);
      let calling = false;
      engine.bus.onAny((event) => {
        if (event.type === 'pipeline.provider.request') calling = true;
      });
      const second = await engine.resume(runId);
      await until('step b to call again', () => calling);
      expect(engine.isActive(runId)).toBe(true);
      expect(engine.activeRuns).toBe(1);
      expect(engine.stop(runId, 'cancelled')).toBe(true);
      expect((await second.result).status).toBe('cancelled');
      const types = (await raw.getEvents(runId, seqBefore, 100)).map((e) => e.type);
      expect(types[0]).toBe('pipeline.execution.start');
      expect(types).toContain('pipeline.step.start');
      expect(types.at(-1)).toBe('pipeline.execution.stop');
      expect(engine.activeRuns).toBe(0);
    } finally {
      held?.open();
      engine.stopAll('cancelled');
      await engine.drain();
      await raw.close();
    }
  });

  it('drain() waits for a run its supervisor gave up on until its end is journaled', async () => {
    const raw = new SqliteStore(join(tempDir(), 'journal.db'));
    let crash = false;
    let held: ReturnType<typeof gate> | undefined;
    const store = new Proxy(raw, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        // The resumed execution's first read of its journal crashes (a journal gone for a moment).
        if (prop === 'getSteps' && crash) {
          return async () => {
            crash = false;
            throw new Error('journal unreachable');
          };
        }
        // The run's failure is journaled slowly.
        if (prop === 'updateRun' && held) {
          return async (...args: Parameters<Store['updateRun']>) => {
            const hold = held;
            if (hold && args[1].status === 'failed') {
              held = undefined;
              hold.reached();
              await hold.opening;
            }
            return target.updateRun(...args);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Store;
    // No restart: the first crash gives the run up.
    const engine = newEngine({ store, restartIntensity: { maxRestarts: 0, backoffMs: 0 } });
    const { load } = pipelineFile(PIPELINE);
    const first = await engine.start(load());
    first.stop('interrupted');
    expect((await first.result).status).toBe('interrupted');

    crash = true;
    held = gate();
    const journaling = held;
    const resumed = await engine.resume(first.runId);
    try {
      await journaling.entered;
      let drained = false;
      const draining = engine.drain().then(() => {
        drained = true;
      });
      await sleep(50);
      expect(drained).toBe(false);
      expect(engine.activeRuns).toBe(1);
      journaling.open();
      await draining;
      expect(engine.activeRuns).toBe(0);
      expect((await raw.getRun(first.runId))?.status).toBe('failed');
      expect((await resumed.result).error).toMatch(/journal unreachable/);
    } finally {
      journaling.open();
      await engine.drain();
      await raw.close();
    }
  });
});
