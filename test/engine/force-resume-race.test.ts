// Two `resume --force` of one run (two processes: two engines, two stores on one journal file). A
// resume forgets the changed steps only once it has claimed the run: the one that loses the claim
// deletes nothing. (It used to forget them first, and so deleted what the winner had journaled
// meanwhile: a step the winner ran, and paid for, missing from its journal.) Here the loser is held
// just before its claim — as a slow disk or a GC pause would hold it — while the winner claims,
// re-runs step b and journals it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { Store } from '../../src/journal/store.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { CountingMock, createHarness, type Harness } from './batch-harness.js';

let h: Harness;
afterEach(async () => {
  await h.cleanup();
});

const v1 = JSON.stringify({
  name: 'race',
  steps: [
    { name: 'a', type: 'mock', prompt: 'A', response: 'a' },
    { name: 'b', type: 'mock', prompt: 'FAIL b', retry: { max_attempts: 1 } },
  ],
});
const v2 = JSON.stringify({
  name: 'race',
  steps: [
    { name: 'a', type: 'mock', prompt: 'A', response: 'a' },
    { name: 'b', type: 'mock', prompt: 'B', response: 'b' },
    { name: 'c', type: 'mock', prompt: 'sleep 400 C', response: 'c' },
  ],
  outputs: { b: '{{ steps.b.output }}' },
});

it('a losing resume --force does not delete steps the winning resume journaled', async () => {
  h = createHarness();
  const file = h.write('p.yaml', v1);
  const first = await h.run(file);
  expect(first.status).toBe('failed');
  writeFileSync(file, v2);

  // The second process: its own store on the same journal, its getSteps held until released.
  const raw = new SqliteStore(join(h.dir, 'journal.db'));
  let entered!: () => void;
  const blocked = new Promise<void>((r) => {
    entered = r;
  });
  let deletions = 0;
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  const slow = new Proxy(raw, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === 'deleteSteps') deletions++;
      if (prop !== 'claimRun') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: Parameters<Store['claimRun']>) => {
        entered();
        await released;
        return target.claimRun(...args);
      };
    },
  }) as Store;
  const other = new Engine({
    store: slow,
    cache: false,
    gates: new GateRegistry(undefined, { mock: { max_concurrency: 100 } }),
    providerFactories: { mock: () => new CountingMock() },
  });

  const loser = other.resume(first.run_id, { force: true });
  loser.catch(() => undefined);
  await blocked; // the loser has read the run (failed) and loaded the changed file, and is about to claim it

  const winner = await h.engine.resume(first.run_id, { force: true });
  // The winner journals the re-run step b, then works on c.
  while (!(await h.store.getSteps(first.run_id)).some((s) => s.key === 'b' && s.status === 'succeeded'))
    await new Promise((r) => setTimeout(r, 5));
  release();
  await expect(loser).rejects.toThrow(/just resumed by another process/);

  const result = await winner.result;
  expect(result.status).toBe('succeeded');
  const journaled = (await h.store.getSteps(first.run_id)).map((s) => s.key);
  await raw.close();
  // The winner's run succeeded; every step it ran is in its journal, and the loser deleted nothing.
  expect(journaled).toEqual(['a', 'b', 'c']);
  expect(deletions).toBe(0);
});
