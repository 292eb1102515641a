// The order an event stream sends a local run's events in: by seq, each once, a later one held
// while an earlier one is missing, an event without seq right after the seq it followed.
import { describe, expect, it } from 'vitest';
import { EventOrder } from '../../src/server/routes/event-order.js';
import type { LiveEvent } from '../../src/server/run-event-hub.js';

const event = (seq: number | undefined, type = 'pipeline.step.start'): LiveEvent => ({
  runId: 'r',
  type,
  at: 0,
  data: {},
  ...(seq === undefined ? {} : { seq }),
});
const seqs = (order: EventOrder) => order.take().map((q) => q.event.seq ?? 'none');

describe('EventOrder', () => {
  it('holds an event past a missing seq until the missing one comes', () => {
    const order = new EventOrder(0);
    order.add(event(1), false);
    order.add(event(3), true);
    order.add(event(4), true);
    expect(seqs(order)).toEqual([1]);
    expect(order.missing).toBe(2);
    order.add(event(2), true);
    expect(seqs(order)).toEqual([2, 3, 4]);
    expect(order.missing).toBeUndefined();
    expect(order.delivered).toBe(4);
  });

  it('keeps each seq once, and nothing at or below where the client is', () => {
    const order = new EventOrder(5);
    expect(order.add(event(5), true)).toBe(false);
    expect(order.add(event(7), false)).toBe(true);
    expect(order.add(event(7), true)).toBe(false);
    expect(seqs(order)).toEqual([]);
    order.add(event(6), false);
    expect(seqs(order)).toEqual([6, 7]);
  });

  it('sends an event without seq right after the seq it followed', () => {
    const order = new EventOrder(0);
    order.add(event(undefined), true, 2);
    order.add(event(1), false);
    expect(seqs(order)).toEqual([1]);
    expect(order.holding).toBe(true);
    order.add(event(3), false);
    order.add(event(2), false);
    expect(seqs(order)).toEqual([2, 'none', 3]);
    // One that follows a seq already sent goes out at once.
    order.add(event(undefined), true, 1);
    expect(seqs(order)).toEqual(['none']);
  });

  it('gives up a hole: sending goes on with the lowest seq held', () => {
    const order = new EventOrder(0);
    order.add(event(1), false);
    order.add(event(4), false);
    order.add(event(5), false);
    expect(seqs(order)).toEqual([1]);
    order.skip();
    expect(seqs(order)).toEqual([4, 5]);
    expect(order.add(event(2), true)).toBe(false); // too late: its place was passed
  });

  it('counts as behind only live events ready when they came, until taken', () => {
    const order = new EventOrder(0);
    order.add(event(1), true);
    expect(order.behind).toBe(1);
    order.add(event(3), true);
    order.add(event(4), true);
    expect(order.behind).toBe(1); // held for 2: the run's delay, not the client's
    order.add(event(2), true);
    expect(order.behind).toBe(2); // 2 itself; 3 and 4 come with it
    order.add(event(5), false);
    expect(order.behind).toBe(2); // read from the journal: not live
    expect(order.take().map((q) => [q.event.seq, q.counts])).toEqual([
      [1, true],
      [2, true],
      [3, false],
      [4, false],
      [5, false],
    ]);
    expect(order.behind).toBe(0);
  });

  it('on a new execution’s start, drops what an earlier one left and goes back to its base', () => {
    const order = new EventOrder(0);
    for (const seq of [1, 2, 3, 4]) order.add(event(seq), true);
    expect(seqs(order)).toEqual([1, 2, 3, 4]);
    order.add(event(5), true); // ready, not taken
    order.add(event(7), true); // held for 6
    order.add(event(undefined), true, 7);
    // The run crashed before committing 3..7 and restarts from the journal's end (2).
    order.restart(3);
    expect(order.delivered).toBe(2);
    expect(order.holding).toBe(false);
    expect(order.behind).toBe(0);
    expect(seqs(order)).toEqual([]);
    order.add(event(3, 'pipeline.execution.start'), true);
    order.add(event(4), true);
    expect(seqs(order)).toEqual([3, 4]);
  });

  it('on a new execution’s start past what was sent, only drops what waits from there on', () => {
    const order = new EventOrder(0);
    order.add(event(1), false);
    expect(seqs(order)).toEqual([1]);
    order.add(event(4), true); // a crashed execution's, held for 2
    order.restart(3);
    expect(order.delivered).toBe(1);
    expect(order.holding).toBe(false);
    order.add(event(2), false);
    order.add(event(3, 'pipeline.execution.start'), true);
    expect(seqs(order)).toEqual([2, 3]);
  });
});
