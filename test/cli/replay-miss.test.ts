// `run --replay FILE` after the pipeline changed: the step fails saying what changed since the
// recording, and the run's hint says to record again — a resume would answer from the same
// cassette and miss again, so "fix the cause, then resume" is no way out.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from './run-main.js';

const pipeline = (prompt: string) =>
  `name: p\nsteps:\n  - { name: first, type: mock, prompt: "hello", response: "one" }\n  - { name: second, type: mock, prompt: "${prompt}", response: "two" }\n`;

describe('run --replay of a cassette that misses a call', () => {
  it('names the step and what changed, and says to record again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-replay-miss-'));
    writeFileSync(join(dir, 'p.yaml'), pipeline('again'));
    const args = ['run', 'p.yaml', '--mock', '--db', 'j.db'];
    expect((await runMain([...args, '--record', 'c.jsonl'], { cwd: dir })).code).toBe(0);
    const cassette = readFileSync(join(dir, 'c.jsonl'), 'utf8');
    expect((await runMain([...args, '--replay', 'c.jsonl'], { cwd: dir })).code).toBe(0);

    writeFileSync(join(dir, 'p.yaml'), pipeline('AGAIN, changed'));
    const missed = await runMain([...args, '--replay', 'c.jsonl'], { cwd: dir });
    expect(missed.code).toBe(1);
    const said = missed.stdout + missed.stderr;
    expect(said).toMatch(
      /holds no answer for step "second" \(mock\/mock-1, call [0-9a-f]{16}…\): the nearest recorded call of this step differs in its messages \(the prompt\)/,
    );
    expect(said).toMatch(/hint: .*record the cassette again with --record/);
    expect(said).not.toMatch(/hint: fix the cause, then `elexirion resume/);
    expect(readFileSync(join(dir, 'c.jsonl'), 'utf8')).toBe(cassette); // replaying never writes it
  });
});
