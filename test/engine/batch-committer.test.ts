import { describe, expect, it } from 'vitest';
import { ItemCommitter } from '../../src/engine/item-committer.js';
import type { EventRecord, ItemRecord } from '../../src/journal/store.js';

const item = (index: number): ItemRecord => ({
  runId: 'r',
  stepKey: 's',
  index,
  status: 'succeeded',
  usage: { inputTokens: 1, outputTokens: 1 },
  costUsd: 0,
  attempts: 1,
  durationMs: 0,
});

function fakeStore() {
  const groups: number[][] = [];
  let events = 0;
  return {
    groups,
    get events() {
      return events;
    },
    store: {
      async commitItems(items: ItemRecord[]) {
        groups.push(items.map((i) => i.index));
      },
      async appendEvents(list: EventRecord[]) {
        events += list.length;
      },
    },
  };
}

describe('ItemCommitter', () => {
  it('commits the items finished in one turn of the event loop in one transaction', async () => {
    const fake = fakeStore();
    const committer = new ItemCommitter(fake.store, () => []);
    await Promise.all([0, 1, 2, 3, 4].map((i) => committer.add(item(i))));
    expect(fake.groups).toEqual([]); // not yet: the flush waits for the end of the turn
    await new Promise((r) => setImmediate(r));
    expect(fake.groups).toEqual([[0, 1, 2, 3, 4]]);
  });

  it('never holds more than maxPending items uncommitted, even when no turn ends', async () => {
    const fake = fakeStore();
    const committer = new ItemCommitter(fake.store, () => [], 10);
    for (let i = 0; i < 1000; i++) await committer.add(item(i));
    await committer.flush();
    expect(Math.max(...fake.groups.map((g) => g.length))).toBeLessThanOrEqual(10);
    expect(fake.groups.flat()).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('writes the buffered events with each group and reports a failed commit', async () => {
    const fake = fakeStore();
    const event: EventRecord = { runId: 'r', seq: 1, type: 't', at: 0, data: {} };
    const committer = new ItemCommitter(fake.store, () => [event, event], 2);
    await committer.add(item(0));
    await committer.add(item(1));
    expect(fake.events).toBe(2);
    const broken = new ItemCommitter(
      {
        commitItems: async () => {
          throw new Error('disk full');
        },
        appendEvents: async () => {},
      },
      () => [],
    );
    await broken.add(item(0));
    await expect(broken.flush()).rejects.toThrow('disk full');
  });
});
