// A Ctrl-C that arrives while `run`, `resume` or `chain` is still starting its run — after the CLI
// installed its SIGINT handler, before the engine registered the run as active (the journal's
// createRun or claim, a network round trip with PostgreSQL) — was acknowledged ("stopping; the run
// stays resumable") and then lost: every step ran, paid, and the command exited 0. It now ends the
// run interrupted, resumable, with exit code 130, as a Ctrl-C a moment later does.
//
// The Ctrl-C is delivered from inside the journal's createRun / claimRun, by calling the handler the
// command installed (the last SIGINT listener) — no real signal, no timing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCliContext } from '../../src/cli/context.js';
import { runSession } from '../../src/cli/run-session.js';
import { loadPipeline } from '../../src/config/loader.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { runMain } from './run-main.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const PIPELINE = `name: paid
steps:
  - { name: one, type: mock, prompt: a }
  - { name: two, type: mock, prompt: b }
`;

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'elexirion-ctrl-c-'));
  const file = join(dir, 'p.yaml');
  writeFileSync(file, PIPELINE);
  return { dir, file, db: join(dir, 'j.db') };
}

/** Presses Ctrl-C (once) while the journal's `method` is under way. */
function ctrlCDuring(method: 'createRun' | 'claimRun') {
  const original = SqliteStore.prototype[method] as (...args: unknown[]) => Promise<unknown>;
  let pressed = false;
  vi.spyOn(SqliteStore.prototype, method).mockImplementation(async function (this: SqliteStore, ...args: unknown[]) {
    if (!pressed) {
      pressed = true;
      const handler = process.listeners('SIGINT').at(-1) as (signal: NodeJS.Signals) => void;
      handler('SIGINT');
    }
    return original.apply(this, args);
  } as never);
}

async function journal(db: string) {
  const store = new SqliteStore(db);
  try {
    const [run] = await store.listRuns({ limit: 1 });
    return { run, steps: run ? await store.getSteps(run.id) : [] };
  } finally {
    await store.close();
  }
}

describe('Ctrl-C while the run is starting', () => {
  it('run: exit 130, the run interrupted before any step, and resumable', async () => {
    const { dir, file, db } = setup();
    ctrlCDuring('createRun');
    const stopped = await runMain(['run', file, '--mock', '--db', db], { cwd: dir });
    expect(stopped.stderr).toContain('stopping; the run stays resumable');
    expect(stopped.code).toBe(130);
    const { run, steps } = await journal(db);
    expect(run?.status).toBe('interrupted');
    expect(steps).toEqual([]);
    vi.restoreAllMocks();

    const resumed = await runMain(['resume', run?.id as string, '--db', db, '--json'], { cwd: dir });
    expect(resumed.code).toBe(0);
    expect((await journal(db)).steps.map((s) => [s.name, s.status])).toEqual([
      ['one', 'succeeded'],
      ['two', 'succeeded'],
    ]);
  });

  it('resume: exit 130, the run interrupted again, nothing run', async () => {
    const { dir, file, db } = setup();
    ctrlCDuring('createRun');
    expect((await runMain(['run', file, '--mock', '--db', db], { cwd: dir })).code).toBe(130);
    vi.restoreAllMocks();
    const { run } = await journal(db);

    ctrlCDuring('claimRun');
    const resumed = await runMain(['resume', run?.id as string, '--db', db], { cwd: dir });
    expect(resumed.code).toBe(130);
    const after = await journal(db);
    expect(after.run?.status).toBe('interrupted');
    expect(after.steps).toEqual([]);
  });

  it('chain: exit 130, the link being started interrupted, the chain resumable', async () => {
    const { dir, file, db } = setup();
    ctrlCDuring('createRun');
    const stopped = await runMain(['chain', file, '--mock', '--db', db, '--json'], { cwd: dir });
    expect(stopped.code).toBe(130);
    const result = JSON.parse(stopped.stdout) as { chain_id: string; status: string; links: { status: string }[] };
    expect(result.status).toBe('interrupted');
    expect(result.links.map((l) => l.status)).toEqual(['interrupted']);
    expect((await journal(db)).steps).toEqual([]);
    vi.restoreAllMocks();

    const resumed = await runMain(['chain', '--resume', result.chain_id, '--db', db, '--json'], { cwd: dir });
    expect(resumed.code).toBe(0);
  });

  it('runSession: a Ctrl-C before `begin` even reached the engine still stops the run', async () => {
    const { dir, file, db } = setup();
    const loaded = await loadPipeline(file);
    const quiet = () => new Writable({ write: (_chunk, _encoding, done) => done() });
    const ctx = createCliContext({ env: { NO_COLOR: '1' }, cwd: dir, stdout: quiet(), stderr: quiet() });
    const code = await runSession(ctx, { db, json: true }, async (engine) => {
      const handler = process.listeners('SIGINT').at(-1) as (signal: NodeJS.Signals) => void;
      handler('SIGINT'); // no run is being started yet: stopAll finds nothing to stop
      await Promise.resolve();
      return engine.start(loaded, { mock: true });
    });
    expect(code).toBe(130);
    expect((await journal(db)).run?.status).toBe('interrupted');
  });
});
