// `serve` looks for runs whose process was killed in the background, once it listens: a first sweep
// that takes long (a large journal) must not hold back its start, and one that fails is logged —
// never a server that does not start, nor an unhandled rejection.
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { emptyTotals, type ListRunsOptions } from '../../src/journal/store.js';
import { startOrphanSweeps } from '../../src/server/orphan-sweeps.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { type Harness, startHarness } from './harness.js';

const KILLED = '01KILLED000000000000000000';

/** The pid of a process that has ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

/** A journal with a run `running` whose process is gone; its sweep (listing running runs) waits for `release`. */
async function journalWithHeldSweep() {
  const store = new SqliteStore(':memory:');
  await store.createRun({
    id: KILLED,
    pipelineName: 'p',
    pipelineHash: 'h',
    pipeline: { name: 'p', steps: [{ name: 'a', type: 'mock', prompt: 'hi' }] },
    inputs: {},
    status: 'running',
    startedAt: Date.now() - 1000,
    totals: emptyTotals(),
    metadata: { pid: deadPid(), host: hostname() },
  });
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const listRuns = store.listRuns.bind(store);
  // Only the sweep lists the running runs; GET /runs and /health list them all.
  store.listRuns = async (options?: ListRunsOptions) => {
    if (options?.status === 'running') await held;
    return listRuns(options);
  };
  return { store, release };
}

function logLines() {
  const lines: { msg: string; runId?: string; err?: { message: string } }[] = [];
  const logger = createLogger({ destination: { write: (line: string) => lines.push(JSON.parse(line)) }, env: {} });
  return { lines, logger };
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("serve's sweep for orphaned runs", () => {
  it('does not hold back the start: the server answers while the first sweep is still under way', async () => {
    const { store, release } = await journalWithHeldSweep();
    const { lines, logger } = logLines();
    const started = startHarness({ store, logger });
    // Before: startService awaited the sweep, and so never resolved while it was held.
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('serve did not start')), 3000));
    h = await Promise.race([started, timeout]);
    expect((await h.call('/health')).status).toBe(200);
    const listed = (await (await h.call('/runs')).json()) as { runs: { run_id: string; status: string }[] };
    expect(listed.runs.find((r) => r.run_id === KILLED)?.status).toBe('running');

    release();
    await vi.waitFor(async () => expect((await store.getRun(KILLED))?.status).toBe('interrupted'), { timeout: 5000 });
    expect(lines).toContainEqual(
      expect.objectContaining({ runId: KILLED, msg: expect.stringContaining('interrupted') }),
    );
  });

  it('a shutdown waits for a sweep under way no longer than its grace', async () => {
    const { store, release } = await journalWithHeldSweep();
    h = await startHarness({ store });
    const began = Date.now();
    await h.service.shutdown(300);
    expect(Date.now() - began).toBeLessThan(3000);
    release();
    h = undefined;
    await store.close();
  });

  it('logs a sweep that fails, and sweeps again later', async () => {
    const { lines, logger } = logLines();
    const interruptOrphanedRuns = vi
      .fn<() => Promise<string[]>>()
      .mockRejectedValueOnce(new Error('the journal is locked'))
      .mockResolvedValue(['01OTHER0000000000000000000']);
    const sweeps = startOrphanSweeps({ interruptOrphanedRuns }, 20, logger);
    try {
      await vi.waitFor(() => expect(interruptOrphanedRuns.mock.calls.length).toBeGreaterThanOrEqual(2));
      await vi.waitFor(() =>
        expect(lines).toContainEqual(expect.objectContaining({ runId: '01OTHER0000000000000000000' })),
      );
      expect(lines[0]).toMatchObject({
        msg: expect.stringContaining('could not look for orphaned runs'),
        err: { message: 'the journal is locked' },
      });
    } finally {
      await sweeps.stop(1000);
    }
    const calls = interruptOrphanedRuns.mock.calls.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(interruptOrphanedRuns.mock.calls.length).toBe(calls); // stopped: no sweep after
  });

  it('never runs two sweeps at once', async () => {
    let release!: () => void;
    const held = new Promise<string[]>((resolve) => {
      release = () => resolve([]);
    });
    const interruptOrphanedRuns = vi.fn(() => held);
    const sweeps = startOrphanSweeps({ interruptOrphanedRuns }, 10);
    await new Promise((r) => setTimeout(r, 80));
    expect(interruptOrphanedRuns).toHaveBeenCalledTimes(1);
    release();
    await sweeps.stop(1000);
  });
});
