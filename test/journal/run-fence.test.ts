// fencedStore: what an execution of a run writes through. A store that checks fences gets each of
// the run's writes with the execution's fence; one that does not (SQLite) is used as it is — the
// engine's hot path pays for no wrapper around a fence it would ignore.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fencedStore, type RunFence } from '../../src/journal/run-fence.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { EventRecord, StepRecord, Store } from '../../src/journal/store.js';
import { sampleRun, sampleStep } from './store-conformance.js';

describe('fencedStore', () => {
  it('hands back a store that checks no fence (SQLite) itself, not a wrapper', async () => {
    const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'elexirion-fence-')), 'journal.db'));
    const run = sampleRun();
    const fenced = fencedStore(store, { runId: run.id, claim: 0 });
    expect(fenced).toBe(store);
    expect(store.checksFences).toBe(false);
    await fenced.createRun(run);
    await fenced.commitStep(sampleStep(run.id, 'a'));
    expect((await store.getSteps(run.id)).map((s) => s.key)).toEqual(['a']);
    await store.close();
  });

  it('gives a store that checks fences the fence with each write of that run, and none with another run’s', async () => {
    const seen: Array<[string, RunFence | undefined]> = [];
    const base = {
      checksFences: true,
      commitStep: async (step: StepRecord, _events?: EventRecord[], fence?: RunFence) => {
        seen.push([`step ${step.runId}`, fence]);
      },
      appendEvents: async (events: EventRecord[], fence?: RunFence) => {
        seen.push([`events ${events.map((e) => e.runId).join(',')}`, fence]);
      },
      updateRun: async (id: string, _patch: unknown, fence?: RunFence) => {
        seen.push([`run ${id}`, fence]);
      },
      lastEventSeq: async () => 7,
    } as unknown as Store;
    const fence = { runId: 'r1', claim: 2 };
    const fenced = fencedStore(base, fence);
    expect(fenced).not.toBe(base);
    await fenced.commitStep(sampleStep('r1', 'a'));
    await fenced.appendEvents([{ runId: 'r1', seq: 1, type: 't', at: 1, data: {} }]);
    await fenced.appendEvents([
      { runId: 'r1', seq: 2, type: 't', at: 1, data: {} },
      { runId: 'r2', seq: 1, type: 't', at: 1, data: {} },
    ]);
    await fenced.updateRun('r2', { status: 'failed' });
    await fenced.updateRun('r1', { status: 'succeeded' });
    expect(await fenced.lastEventSeq('r1')).toBe(7);
    expect(seen).toEqual([
      ['step r1', fence],
      ['events r1', fence],
      ['events r1,r2', undefined],
      ['run r2', undefined],
      ['run r1', fence],
    ]);
  });
});
