// `run --record FILE` killed mid-way (SIGKILL, no chance to clean up): FILE still holds the cassette
// recorded before — the run records beside it, to FILE.recording, renamed over FILE when the run
// ends — and `resume` goes on with the killed run's own recording, so that the cassette it leaves
// at its end holds every call of the run. Before, FILE was emptied as the run started: a recording
// killed before its first call lost the previous cassette.
// Spawns the real binary (bin/elexirion.js runs dist/: `npm run build` first).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../engine/harness.js';
import { runMain } from './run-main.js';

const BIN = resolve(import.meta.dirname, '../../bin/elexirion.js');

const PIPELINE = [
  'name: taped',
  'steps:',
  '  - { name: first, type: mock, model: m, prompt: "first" }',
  // Long enough to be killed in: the first call is recorded by then.
  '  - { name: second, type: mock, model: m, prompt: "second", latency: 1500ms }',
  '',
].join('\n');

const stepsOf = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { step: string }).step);

describe('run --record killed mid-way', () => {
  it('leaves the previous cassette whole; resume finishes the recording and replaces it', async () => {
    const dir = tempDir('elexirion-record-killed-');
    const file = join(dir, 'p.yaml');
    const db = join(dir, 'j.db');
    const cassette = join(dir, 'c.jsonl');
    // The run's own recording beside the cassette: c.jsonl.RUN_ID.recording.
    const recordingIn = (): string | undefined => {
      const name = readdirSync(dir).find((n) => n.startsWith('c.jsonl.') && n.endsWith('.recording'));
      return name === undefined ? undefined : join(dir, name);
    };
    writeFileSync(file, PIPELINE);
    const hello = join(import.meta.dirname, '../../examples/hello.yaml');
    expect((await runMain(['run', hello, '--mock', '--db', db, '--record', cassette])).code).toBe(0);
    const previous = readFileSync(cassette, 'utf8');
    expect(stepsOf(previous).length).toBeGreaterThan(0);
    expect(recordingIn()).toBeUndefined(); // renamed over the cassette at the run's end

    const child = spawn(process.execPath, [BIN, 'run', file, '--mock', '--db', db, '--record', cassette], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: 'ignore',
    });
    const exited = new Promise((done) => child.on('exit', done));
    // Killed once the first call is recorded, while the second is in flight.
    let recording = recordingIn();
    for (let i = 0; i < 400 && !(recording !== undefined && readFileSync(recording, 'utf8').includes('\n')); i++) {
      await sleep(10);
      recording = recordingIn();
    }
    child.kill('SIGKILL');
    await exited;
    expect(readFileSync(cassette, 'utf8')).toBe(previous);
    expect(recording).toBeDefined();
    expect(stepsOf(readFileSync(recording as string, 'utf8'))).toEqual(['first']);

    const runs = await runMain(['runs', '--json', '--db', db]);
    const killed = (JSON.parse(runs.stdout) as { id: string; pipeline: string }[]).find((r) => r.pipeline === 'taped');
    expect(killed?.id).toBeDefined();
    expect(recording).toBe(`${cassette}.${killed?.id}.recording`);
    const resumed = await runMain(['resume', killed?.id as string, '--db', db]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).not.toMatch(/which is gone/);
    expect(stepsOf(readFileSync(cassette, 'utf8'))).toEqual(['first', 'second']);
    expect(existsSync(recording as string)).toBe(false);

    // The whole run replays from it, offline.
    const replayed = await runMain(['run', file, '--db', db, '--replay', cassette]);
    expect(replayed.code, replayed.stdout).toBe(0);
  }, 30_000);
});
