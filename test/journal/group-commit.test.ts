import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/journal/group-commit.js';

/** A fake transaction log: what a real database would make durable, group by group. */
function recorder() {
  const committed: string[][] = [];
  const transaction = (work: () => void) => {
    const group: string[] = [];
    current = group;
    try {
      work();
    } finally {
      current = undefined;
    }
    committed.push(group);
  };
  let current: string[] | undefined;
  const write =
    (name: string, fail = false) =>
    () => {
      if (fail) throw new Error(`${name} failed`);
      current?.push(name);
    };
  return { committed, transaction, write };
}

describe('GroupCommit', () => {
  it('writes of one turn share one transaction, and resolve only after it', async () => {
    const { committed, transaction, write } = recorder();
    const group = new GroupCommit(transaction);
    const resolved: string[] = [];
    const a = group.write(write('a')).then(() => resolved.push('a'));
    const b = group.write(write('b')).then(() => resolved.push('b'));
    expect(committed).toEqual([]); // nothing is committed yet, nothing has resolved
    expect(resolved).toEqual([]);
    await Promise.all([a, b]);
    expect(committed).toEqual([['a', 'b']]);
    expect(resolved).toEqual(['a', 'b']);
  });

  it('a later turn gets a transaction of its own', async () => {
    const { committed, transaction, write } = recorder();
    const group = new GroupCommit(transaction);
    await group.write(write('first'));
    await group.write(write('second'));
    expect(committed).toEqual([['first'], ['second']]);
  });

  it('one failing write rejects alone; its neighbours are committed', async () => {
    const { committed, transaction, write } = recorder();
    const group = new GroupCommit(transaction);
    const results = await Promise.allSettled([
      group.write(write('ok1')),
      group.write(write('bad', true)),
      group.write(write('ok2')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(committed.flat()).toEqual(['ok1', 'ok2']);
  });

  it('flush() commits at once', () => {
    const { committed, transaction, write } = recorder();
    const group = new GroupCommit(transaction);
    void group.write(write('now'));
    expect(group.pending).toBe(1);
    group.flush();
    expect(committed).toEqual([['now']]);
    expect(group.pending).toBe(0);
  });
});
