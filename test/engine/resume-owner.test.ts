// A resume must never take a run its owner is still running (both would pay for its steps). The
// owner's pid is checked only where it means something: in this pid namespace, and a process of
// another user (EPERM) is alive. A process in another pid namespace on this host (another container
// sharing the journal) cannot be checked: refused, unless the resume is told to take the run over.
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { PID_NAMESPACE, PROCESS_START, processStart } from '../../src/journal/journal-logs.js';
import { createHarness, type Harness } from './batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await h.cleanup();
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await sleep(5);
}

/** A run left `running` by an owner described by `owner` (its pid, host and pid namespace). */
async function ownedRun(owner: Record<string, unknown>): Promise<string> {
  const loaded = loadPipelineFromString(
    'name: p\nsteps:\n  - { name: a, type: mock, prompt: hi }\n',
    `${h.dir}/p.yaml`,
  );
  const created = await h.engine.create(loaded, { mock: true });
  await h.store.updateRun(created.id, { metadata: { ...created.metadata, ...owner } });
  return created.id;
}

describe.runIf(PID_NAMESPACE !== undefined)('resuming a running run', () => {
  it('refuses one whose owner lives under another user (EPERM is a live process)', async () => {
    const id = await ownedRun({ pid: 4_000_000, host: hostname(), pidns: PID_NAMESPACE });
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => {
      throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
    });
    await expect(h.engine.resume(id)).rejects.toThrow(/is still running/);
    expect(kill).toHaveBeenCalledWith(4_000_000, 0);
    expect(h.mock.calls).toBe(0);
  });

  it('resumes one whose owner is gone (ESRCH)', async () => {
    const id = await ownedRun({ pid: 4_000_000, host: hostname(), pidns: PID_NAMESPACE });
    vi.spyOn(process, 'kill').mockImplementation(() => {
      throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
    });
    expect((await (await h.engine.resume(id)).result).status).toBe('succeeded');
  });

  // A killed owner's pid given by the kernel to another process: the pid lives, the owner does not.
  it("resumes one whose owner's pid now belongs to another process (its start differs)", async () => {
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = other.pid as number;
      await until(() => processStart(pid) !== undefined);
      const reused = await ownedRun({ pid, host: hostname(), pidns: PID_NAMESPACE, started: '1' });
      expect((await (await h.engine.resume(reused)).result).status).toBe('succeeded');
      // The same pid with its own start is the owner, alive: refused.
      const owned = await ownedRun({ pid, host: hostname(), pidns: PID_NAMESPACE, started: processStart(pid) });
      await expect(h.engine.resume(owned)).rejects.toThrow(/is still running/);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('records the start of the process that owns a run', async () => {
    const id = await ownedRun({});
    const handle = await h.engine.resume(id, { takeover: true });
    await handle.result;
    expect((await h.store.getRun(id))?.metadata).toMatchObject({ pid: process.pid, started: PROCESS_START });
  });

  it('refuses one owned in another pid namespace of this host, and takes it over when told to', async () => {
    const id = await ownedRun({ pid: 1, host: hostname(), pidns: 'pid:[1]' });
    await expect(h.engine.resume(id)).rejects.toMatchObject({
      message: expect.stringMatching(/another pid namespace/),
      hint: expect.stringContaining('--takeover'),
    });
    expect(h.mock.calls).toBe(0);
    expect((await (await h.engine.resume(id, { takeover: true })).result).status).toBe('succeeded');
    expect(h.mock.calls).toBe(1);
  });
});
