// A reader that goes away while a run goes on (`elexirion run x.yaml 2>&1 | head -1`, a log
// collector that stops) closes the CLI's output pipe. The launcher exited at the first write that
// failed (EPIPE), with exit code 0: the run was abandoned half-way — left `running` in the journal,
// no process behind it — and reported a success. The run now goes on to its end, journaled as
// usual, what it would have printed is dropped, and the exit code is the run's own.
// Spawns the real binary (bin/elexirion.js runs dist/: `npm run build` first) and closes the read
// end of its pipe before it has written anything.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';

const bin = join(import.meta.dirname, '../../bin/elexirion.js');

function setup(pipeline: string) {
  const dir = mkdtempSync(join(tmpdir(), 'elexirion-closed-pipe-'));
  const file = join(dir, 'p.yaml');
  writeFileSync(file, pipeline);
  return { file, db: join(dir, 'j.db') };
}

/** Runs the CLI with `closed` (stdout or stderr) closed by its reader at once; the other is read. */
async function runWithClosed(closed: 'stdout' | 'stderr', args: string[]) {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1' } });
  child[closed].destroy();
  let other = '';
  child[closed === 'stdout' ? 'stderr' : 'stdout'].on('data', (chunk) => {
    other += String(chunk);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { code, other };
}

async function onlyRun(db: string) {
  const store = new SqliteStore(db);
  try {
    const runs = await store.listRuns();
    expect(runs).toHaveLength(1);
    return runs[0];
  } finally {
    await store.close();
  }
}

describe('a closed output pipe during `run`', () => {
  it('stderr closed: the run still fails at its step, journaled `failed`, exit 1 (was: left `running`, exit 0)', async () => {
    const { file, db } = setup(`name: closed
steps:
  - { name: one, type: mock, prompt: a, latency: 200ms }
  - { name: two, type: mock, prompt: b, latency: 200ms, fail_first: 9, retry: { max_attempts: 1 } }
`);
    const { code, other } = await runWithClosed('stderr', ['run', file, '--mock', '--db', db]);
    const run = await onlyRun(db);
    expect(run?.status).toBe('failed');
    expect(run?.failedStep).toBe('two');
    expect(code).toBe(1);
    expect(other).toMatch(/closed failed/); // stdout, still open, has the summary
  });

  it('stdout closed under --stream: the run goes on to its end, journaled `succeeded`, exit 0', async () => {
    const { file, db } = setup(`name: streamed
steps:
  - { name: one, type: mock, prompt: a, latency: 200ms }
  - { name: two, type: mock, prompt: b, latency: 200ms }
`);
    const { code, other } = await runWithClosed('stdout', ['run', file, '--mock', '--stream', '--db', db]);
    const run = await onlyRun(db);
    expect(run?.status).toBe('succeeded');
    expect(code).toBe(0);
    expect(other).toMatch(/✓ two/); // stderr, still open, has every step
  });
});
