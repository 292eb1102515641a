import { describe, expect, it } from 'vitest';
import { runWorkers } from '../../src/engine/steps/worker-pool.js';

describe('runWorkers', () => {
  it('runs the window of workers to the end', async () => {
    let next = 0;
    const seen: number[] = [];
    const cancel = new AbortController();
    await runWorkers(
      3,
      async () => {
        while (next < 10) {
          const n = next++;
          await new Promise((r) => setTimeout(r, 1));
          seen.push(n);
        }
      },
      cancel,
    );
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('on a crash, stops the other workers through the signal and rethrows once all have stopped', async () => {
    const cancel = new AbortController();
    let running = 0;
    let id = 0;
    const outcome = runWorkers(
      4,
      async () => {
        const me = id++;
        running++;
        try {
          if (me === 0) {
            await new Promise((r) => setTimeout(r, 5));
            throw new Error('store broke');
          }
          while (!cancel.signal.aborted) await new Promise((r) => setTimeout(r, 1));
        } finally {
          running--;
        }
      },
      cancel,
    );
    await expect(outcome).rejects.toThrow('store broke');
    expect(running).toBe(0);
    expect(cancel.signal.reason).toBeInstanceOf(Error);
  });
});
