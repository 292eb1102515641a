// Engine.eventSeq: a bus subscriber learns the journal seq of the event being emitted — what the
// cluster's live relay publishes with each event. A step.stop is emitted after its commit, when a
// parallel step may have journaled more events: its seq is still its own.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { Store } from '../../src/journal/store.js';
import { newEngine, runYaml, tempDir } from './harness.js';

const PIPELINE = `
name: seqs
steps:
  - name: group
    type: parallel
    steps:
      - name: quick
        type: mock
        prompt: "quick"
      - name: slow
        type: mock
        prompt: "slow"
        latency: 30ms
        stream: true
`;

describe('Engine.eventSeq', () => {
  it('gives each emitted event the seq the journal keeps it under, a step.stop after a slow commit too', async () => {
    const sqlite = new SqliteStore(join(tempDir(), 'journal.db'));
    // The commit of `quick` takes a while: `slow` journals its events meanwhile.
    const store = new Proxy(sqlite, {
      get(target, name, receiver) {
        if (name !== 'commitStep') return Reflect.get(target, name, receiver);
        return async (...args: Parameters<Store['commitStep']>) => {
          if (args[0].key === 'quick') await sleep(100);
          return target.commitStep(...args);
        };
      },
    });
    const engine = newEngine({ store });
    const seen: { seq: number | undefined; last: number | undefined; type: string; step: unknown }[] = [];
    engine.bus.onAny((event) => {
      const runId = (event.data as { runId?: string }).runId;
      if (runId === undefined) return;
      seen.push({
        seq: engine.eventSeq(event),
        last: engine.lastEventSeq(runId),
        type: event.type,
        step: (event.data as { step?: unknown }).step,
      });
    });
    const result = await runYaml(engine, PIPELINE, { mock: true });
    expect(result.status).toBe('succeeded');

    const journal = await sqlite.getEvents(result.run_id);
    const bySeq = [...seen].sort((a, b) => (a.seq as number) - (b.seq as number));
    expect(bySeq.map((e) => [e.seq, e.type, e.step])).toEqual(
      journal.map((e) => [e.seq, e.type, (e.data as { step?: unknown }).step]),
    );
    // The case that needs it: the last seq had moved on when `quick` said it had stopped.
    const quickStop = seen.find((e) => e.type === 'pipeline.step.stop' && e.step === 'quick');
    expect(quickStop?.last).toBeGreaterThan(quickStop?.seq as number);
    await sqlite.close();
  });
});
