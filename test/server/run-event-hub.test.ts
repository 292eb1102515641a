// The live side of a local run's event stream: the hub keeps every event not yet known to be in
// the journal. A step.stop is emitted after its commit, which wrote the events up to the stop's own
// seq — but a parallel sibling may have journaled more while the commit was under way; those are
// still waiting for theirs and must stay in the hub, or a client joining then would find a gap.
import { describe, expect, it } from 'vitest';
import { RunEventHub } from '../../src/server/run-event-hub.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import type { ElexirionEvent } from '../../src/telemetry/events.js';

/** An engine as the hub sees it: a bus, and the journal seq of each event as it is emitted. */
function fakeEngine() {
  const bus = new EventBus();
  const seqs = new WeakMap<object, number>();
  return {
    bus,
    eventSeq: (event: ElexirionEvent) => seqs.get(event.data),
    emit(
      type: 'pipeline.step.start' | 'pipeline.step.stop' | 'pipeline.execution.start',
      step: string,
      seq: number | undefined,
    ) {
      const data =
        type === 'pipeline.execution.start'
          ? { runId: 'r', pipeline: 'p', resumed: true, steps: 1 }
          : type === 'pipeline.step.start'
            ? { runId: 'r', step, type: 'mock', index: 0 }
            : {
                runId: 'r',
                step,
                type: 'mock',
                status: 'succeeded' as const,
                durationMs: 1,
                usage: { inputTokens: 0, outputTokens: 0 },
                costUsd: 0,
                attempts: 1,
                fromJournal: seq === undefined,
              };
      if (seq !== undefined) seqs.set(data, seq);
      bus.emit(type, data as never);
    },
  };
}

describe('RunEventHub', () => {
  it('keeps a parallel sibling’s events that a step.stop’s commit did not write', () => {
    const engine = fakeEngine();
    const hub = new RunEventHub(engine);
    engine.emit('pipeline.step.start', 'a', 1);
    engine.emit('pipeline.step.start', 'b', 2);
    // a's stop is journaled as seq 3 and committed with 1–3; b journals seq 4 meanwhile …
    engine.emit('pipeline.step.start', 'c', 4);
    // … then a's stop is emitted, after its commit.
    engine.emit('pipeline.step.stop', 'a', 3);
    expect(hub.buffered('r').map((e) => e.seq)).toEqual([4]);
    engine.emit('pipeline.step.stop', 'b', 5);
    expect(hub.buffered('r')).toEqual([]);
    hub.close();
  });

  it('keeps at most its limit of uncommitted events and tells how far it dropped', () => {
    const engine = fakeEngine();
    const hub = new RunEventHub(engine, 2);
    for (const [i, step] of ['a', 'b', 'c', 'd'].entries()) engine.emit('pipeline.step.start', step, i + 1);
    expect(hub.buffered('r').map((e) => e.seq)).toEqual([3, 4]);
    expect(hub.droppedThrough('r')).toBe(2);
    hub.close();
  });

  it('forgets an earlier execution’s uncommitted events when the run restarts', () => {
    const engine = fakeEngine();
    const hub = new RunEventHub(engine, 2);
    // The first execution committed 1..2, emitted 3..5 (its buffer keeps the last two), and crashed.
    for (const [i, step] of ['a', 'b', 'c', 'd', 'e'].entries()) engine.emit('pipeline.step.start', step, i + 1);
    expect(hub.droppedThrough('r')).toBe(3);
    // The restart continues from the journal's end: its seqs 3.. are not those of the crashed one.
    engine.emit('pipeline.execution.start', '', 3);
    expect(hub.buffered('r').map((e) => [e.seq, e.type])).toEqual([[3, 'pipeline.execution.start']]);
    expect(hub.droppedThrough('r')).toBe(0);
    hub.close();
  });

  it('gives a live watcher every event, with no seq for a step taken from the journal', () => {
    const engine = fakeEngine();
    const hub = new RunEventHub(engine);
    const seen: (number | undefined)[] = [];
    hub.watch('r', (event) => seen.push(event.seq));
    engine.emit('pipeline.step.stop', 'old', undefined);
    engine.emit('pipeline.step.start', 'new', 7);
    expect(seen).toEqual([undefined, 7]);
    expect(hub.buffered('r').map((e) => e.seq)).toEqual([7]);
    hub.close();
  });

  it('forgets, at any run’s start, what runs no longer active buffered (ended without an execution.stop)', () => {
    const engine = fakeEngine();
    const active = new Set(['r']);
    const hub = new RunEventHub({ ...engine, isActive: (runId: string) => active.has(runId) });
    engine.emit('pipeline.step.start', 'a', 1);
    expect(hub.buffered('r').map((e) => e.seq)).toEqual([1]);
    // Given up to another process: no longer active, and no execution.stop comes.
    active.delete('r');
    engine.bus.emit('pipeline.execution.start', { runId: 'q', pipeline: 'p', resumed: false, steps: 1 } as never);
    expect(hub.buffered('r')).toEqual([]);
    hub.close();
  });
});
