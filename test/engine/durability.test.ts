// Durability for real: a child process runs a 20-step pipeline and is killed with SIGKILL mid-run;
// `elexirion resume` completes it; the mock's call log proves every step ran exactly once in total,
// except at most the one in flight at the kill.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { tempDir } from './harness.js';

const BIN = resolve(__dirname, '../../bin/elexirion.js');
const STEPS = 20;

function twentyStepPipeline(): string {
  const steps = Array.from({ length: STEPS }, (_, i) =>
    [
      `  - name: step_${i}`,
      '    type: mock',
      `    prompt: "step ${i} after {{ ${i === 0 ? "'start'" : `steps.step_${i - 1}.output`} | truncate: 20 }}"`,
      '    latency: 80ms',
    ].join('\n'),
  );
  return `name: twenty\nsteps:\n${steps.join('\n')}\noutputs:\n  last: "{{ steps.step_${STEPS - 1}.output }}"\n`;
}

function callsPerStep(log: string): Map<number, number> {
  const counts = new Map<number, number>();
  if (!existsSync(log)) return counts;
  for (const line of readFileSync(log, 'utf8').split('\n').filter(Boolean)) {
    const step = Number(/^step (\d+)\b/.exec(JSON.parse(line).prompt)?.[1]);
    counts.set(step, (counts.get(step) ?? 0) + 1);
  }
  return counts;
}

describe('durability: kill -9 and resume', () => {
  it('resumes a SIGKILLed run without redoing finished steps', async () => {
    const dir = tempDir();
    const file = join(dir, 'twenty.yaml');
    const db = join(dir, 'journal.db');
    const log = join(dir, 'calls.jsonl');
    writeFileSync(file, twentyStepPipeline());
    const env = { ...process.env, ELEXIRION_MOCK_CALL_LOG: log, NO_COLOR: '1' };

    const child = spawn(process.execPath, [BIN, 'run', file, '--mock', '--db', db], { env, stdio: 'ignore' });
    const exited = new Promise<number | null>((done) =>
      child.on('exit', (_code, signal) => done(signal ? 137 : _code)),
    );

    // Kill once at least 8 steps are durable — mid-run, with a step in flight.
    const reader = new SqliteStore(db);
    let runId: string | undefined;
    for (let i = 0; i < 400 && !runId; i++) {
      await sleep(25);
      const [run] = await reader.listRuns({ limit: 1 });
      if (run && (await reader.getSteps(run.id)).length >= 8) runId = run.id;
    }
    child.kill('SIGKILL');
    await exited;
    expect(runId, 'the run never reached 8 steps').toBeDefined();
    const id = runId as string;

    // What the dead process made durable is what a journal opened now finds (its write-ahead log
    // applied): the reader opened before may lag by the writes not yet applied at the kill.
    const afterKill = new SqliteStore(db);
    const killed = await afterKill.getRun(id);
    expect(killed?.status).toBe('running'); // nobody could mark it: the process died
    const doneBefore = (await afterKill.getSteps(id)).length;
    await afterKill.close();
    expect(doneBefore).toBeGreaterThanOrEqual(8);
    expect(doneBefore).toBeLessThan(STEPS);

    const resumed = spawnSync(process.execPath, [BIN, 'resume', id, '--db', db, '--json'], { env, encoding: 'utf8' });
    expect(resumed.status, resumed.stderr).toBe(0);
    const result = JSON.parse(resumed.stdout);
    expect(result.status).toBe('succeeded');
    expect(result.steps).toHaveLength(STEPS);
    expect(result.outputs.last).toMatch(/step 19/);

    const counts = callsPerStep(log);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: STEPS }, (_, i) => i));
    const repeated = [...counts.entries()].filter(([, n]) => n > 1);
    expect(repeated.length, `steps called more than once: ${JSON.stringify(repeated)}`).toBeLessThanOrEqual(1);
    for (const [, n] of repeated) expect(n).toBe(2);
    // The repeated one, if any, is the step that was in flight at the kill: the first not journaled.
    for (const [s] of repeated) expect(s).toBe(doneBefore);
    await reader.close();
  }, 60_000);

  it('refuses to resume when the pipeline file changed, and --force re-runs from the first changed step', async () => {
    const dir = tempDir();
    const file = join(dir, 'p.yaml');
    const db = join(dir, 'journal.db');
    const log = join(dir, 'calls.jsonl');
    const env = { ...process.env, ELEXIRION_MOCK_CALL_LOG: log, NO_COLOR: '1' };
    const yaml = (last: string) =>
      `name: edit\nsteps:\n  - name: a\n    type: mock\n    prompt: "step 0 a"\n  - name: b\n    type: mock\n    prompt: "step 1 b"\n    fail_first: 9\n    retry: { max_attempts: 1 }\n  - name: c\n    type: mock\n    prompt: "${last}"\n`;
    writeFileSync(file, yaml('step 2 c'));
    const first = spawnSync(process.execPath, [BIN, 'run', file, '--mock', '--db', db, '--json'], {
      env,
      encoding: 'utf8',
    });
    expect(first.status).toBe(1);
    const runId = JSON.parse(first.stdout).run_id as string;

    // The fix: b no longer fails. The file changed, so a plain resume refuses.
    writeFileSync(file, yaml('step 2 c').replace('    fail_first: 9\n', ''));
    const refused = spawnSync(process.execPath, [BIN, 'resume', runId, '--db', db], { env, encoding: 'utf8' });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/changed since run .* started/);
    expect(refused.stderr).toMatch(/--force/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);

    const forced = spawnSync(process.execPath, [BIN, 'resume', runId, '--db', db, '--force', '--json'], {
      env,
      encoding: 'utf8',
    });
    expect(forced.status, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout).status).toBe('succeeded');
    const counts = callsPerStep(log);
    expect(counts.get(0)).toBe(1); // a was before the change: reused from the journal
    expect(counts.get(1)).toBe(1); // b failed the first time (no answer logged), then ran once
    expect(counts.get(2)).toBe(1);
  }, 60_000);

  it('Ctrl-C marks the run interrupted (exit 130); resume finishes it without re-running finished steps', async () => {
    const dir = tempDir();
    const file = join(dir, 'p.yaml');
    const db = join(dir, 'journal.db');
    const log = join(dir, 'calls.jsonl');
    const env = { ...process.env, ELEXIRION_MOCK_CALL_LOG: log, NO_COLOR: '1' };
    writeFileSync(
      file,
      `name: ctrlc\nsteps:\n  - name: a\n    type: mock\n    prompt: "step 0"\n  - name: b\n    type: mock\n    prompt: "step 1"\n    latency: 1500ms\n`,
    );
    const child = spawn(process.execPath, [BIN, 'run', file, '--mock', '--db', db], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const reader = new SqliteStore(db);
    for (let i = 0; i < 200; i++) {
      await sleep(25);
      const [run] = await reader.listRuns({ limit: 1 });
      if (run && (await reader.getSteps(run.id)).length >= 1) break;
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stdout).toMatch(/ctrlc interrupted/);
    const [run] = await reader.listRuns({ limit: 1 });
    expect(run?.status).toBe('interrupted');
    const again = spawnSync(process.execPath, [BIN, 'resume', run?.id as string, '--db', db, '--json'], {
      env,
      encoding: 'utf8',
    });
    expect(again.status, again.stderr).toBe(0);
    expect(callsPerStep(log).get(0)).toBe(1);
    expect(callsPerStep(log).get(1)).toBe(1); // the interrupted call never answered
    const shown = spawnSync(process.execPath, [BIN, 'runs', 'show', run?.id as string, '--db', db], {
      env,
      encoding: 'utf8',
    });
    expect(shown.stdout).toMatch(/ctrlc succeeded/);
    await reader.close();
  }, 60_000);

  it('Ctrl-C in the middle of a batch: every item the provider answered is journaled before the process exits', async () => {
    const dir = tempDir();
    const file = join(dir, 'batch.yaml');
    const db = join(dir, 'journal.db');
    const log = join(dir, 'calls.jsonl');
    const env = { ...process.env, ELEXIRION_MOCK_CALL_LOG: log, NO_COLOR: '1' };
    writeFileSync(
      file,
      `name: stopped\ninputs:\n  xs: { type: array, default: ${JSON.stringify(Array.from({ length: 300 }, (_, i) => i))} }\nsteps:\n  - name: each\n    type: batch\n    items: "{{ xs }}"\n    max_parallel: 10\n    step_template: { type: mock, prompt: "item {{ item }}", latency: 20ms }\n`,
    );
    const child = spawn(process.execPath, [BIN, 'run', file, '--mock', '--db', db], { env, stdio: 'ignore' });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const reader = new SqliteStore(db);
    for (let i = 0; i < 400; i++) {
      await sleep(20);
      const [run] = await reader.listRuns({ limit: 1 });
      if (run && (await reader.countItems(run.id, 'each')).succeeded >= 30) break;
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const [run] = await reader.listRuns({ limit: 1 });
    const journaled = (await reader.countItems(run?.id as string, 'each')).succeeded;
    const answered = readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
    expect(journaled).toBeGreaterThanOrEqual(30);
    expect(journaled).toBeLessThan(300);
    // Nothing paid for is lost: a resume will not pay for these again.
    expect(journaled).toBe(answered);
    await reader.close();
  }, 60_000);
});
