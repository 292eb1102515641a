import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { CassetteMissError, CassettePlayer, CassetteRecorder, recordingFileOf } from '../../src/journal/cassette.js';
import { answer, request } from '../resilience/stub-provider.js';

const dir = mkdtempSync(join(tmpdir(), 'elexirion-cassette-'));

/** A call `k1` of step `s`, answered `r1`. */
const entryOf = (costUsd: number) => ({
  key: 'k1',
  step: 's',
  provider: 'stub',
  model: 'm',
  request: request(),
  response: answer('r1'),
  costUsd,
});

describe('cassettes', () => {
  it('records calls as JSON lines and replays them by key', () => {
    const file = join(dir, 'a.jsonl');
    const recorder = new CassetteRecorder(file);
    const entry = entryOf(0.1);
    recorder.record(entry);
    recorder.record(entry); // the same call twice: one line
    recorder.record({ ...entry, key: 'k2', response: answer('r2') });
    recorder.close(); // its run ended: the recording becomes the cassette
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);

    const player = new CassettePlayer(file);
    expect(player.size).toBe(2);
    expect(player.answer('k2', { step: 's', provider: 'stub', model: 'm' }).response.text).toBe('r2');
  });

  it('fails loudly on a call it does not hold, naming step, provider, model and key', () => {
    const file = join(dir, 'b.jsonl');
    const empty = new CassetteRecorder(file);
    empty.start(); // an empty cassette: a run that made no call
    empty.close();
    const player = new CassettePlayer(file);
    const miss = (() => {
      try {
        player.answer('deadbeef'.repeat(8), { step: 'summarize', provider: 'anthropic', model: 'claude-x' });
      } catch (error) {
        return error;
      }
    })();
    expect(miss).toBeInstanceOf(CassetteMissError);
    expect((miss as Error).message).toMatch(/summarize.*anthropic\/claude-x.*deadbeefdeadbeef/);
    expect((miss as CassetteMissError).hint).toContain('--record');
  });

  it('a recorder leaves an existing cassette untouched until its run ends (it is closed)', () => {
    const entry = entryOf(0);
    const file = join(dir, 'kept.jsonl');
    writeFileSync(file, 'recorded earlier\n');
    new CassetteRecorder(file); // a run refused after this must not cost the old cassette
    expect(readFileSync(file, 'utf8')).toBe('recorded earlier\n');
    const byCall = new CassetteRecorder(file);
    byCall.record(entry);
    expect(readFileSync(file, 'utf8')).toBe('recorded earlier\n'); // the recording is beside it
    expect(new CassettePlayer(recordingFileOf(file)).size).toBe(1); // started afresh by the first call
    byCall.start(); // too late to empty it: a no-op
    byCall.record({ ...entry, key: 'k2' });
    byCall.close();
    expect(new CassettePlayer(file).size).toBe(2);
    expect(existsSync(recordingFileOf(file))).toBe(false);
    writeFileSync(file, 'recorded earlier\n');
    const noCall = new CassetteRecorder(file);
    noCall.start();
    expect(readFileSync(file, 'utf8')).toBe('recorded earlier\n');
    noCall.close();
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it("a fresh recording empties a killed recording's file left beside the cassette", () => {
    const file = join(dir, 'stale.jsonl');
    writeFileSync(file, 'recorded earlier\n');
    writeFileSync(recordingFileOf(file), `${JSON.stringify({ v: 1, ...entryOf(0), key: 'old' })}\n`);
    const fresh = new CassetteRecorder(file);
    fresh.start();
    expect(readFileSync(recordingFileOf(file), 'utf8')).toBe('');
    fresh.record({ ...entryOf(0), key: 'new' });
    fresh.close();
    expect(new CassettePlayer(file).answer('new', { step: 's', provider: 'stub', model: 'm' }).key).toBe('new');
    expect(new CassettePlayer(file).size).toBe(1);
  });

  it("appending (a resume) goes on with a killed attempt's recording, then replaces the cassette", () => {
    const file = join(dir, 'resumed.jsonl');
    writeFileSync(file, 'recorded earlier\n');
    const killed = new CassetteRecorder(file);
    killed.record({ ...entryOf(0), key: 'k1' }); // then the process dies: no close()
    const resumed = new CassetteRecorder(file, { append: true });
    resumed.record({ ...entryOf(0), key: 'k1' }); // recorded already: not written twice
    resumed.record({ ...entryOf(0), key: 'k2' });
    expect(readFileSync(file, 'utf8')).toBe('recorded earlier\n');
    resumed.close();
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(new CassettePlayer(file).size).toBe(2);
    expect(existsSync(recordingFileOf(file))).toBe(false);
  });

  it("a resume goes on with its own run's recording, never with one another run left beside the cassette", () => {
    const file = join(dir, 'shared.jsonl');
    // Run A records and ends: its calls are the cassette.
    const a = new CassetteRecorder(file);
    a.start('RUN-A');
    a.record({ ...entryOf(0), key: 'a1' });
    a.close();
    // Run B records to the same cassette and is killed: its calls stay in its own recording.
    const b = new CassetteRecorder(file);
    b.start('RUN-B');
    b.record({ ...entryOf(0), key: 'b1' });
    expect(existsSync(recordingFileOf(file, 'RUN-B'))).toBe(true);
    // A resumed (it had ended interrupted) appends to the cassette, not to B's recording.
    const resumedA = new CassetteRecorder(file, { append: true, runId: 'RUN-A' });
    resumedA.record({ ...entryOf(0), key: 'a2' });
    resumedA.close();
    const keys = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { key: string }).key);
    expect(keys).toEqual(['a1', 'a2']);
    expect(new CassettePlayer(recordingFileOf(file, 'RUN-B')).size).toBe(1); // B's, untouched
  });

  it('a resume records again a call whose line a kill left unended (it was dropped, not recorded)', () => {
    const file = join(dir, 'cut.jsonl');
    const recording = recordingFileOf(file, 'RUN-C');
    const whole = `${JSON.stringify({ v: 1, ...entryOf(0), key: 'c1' })}\n`;
    const cut = JSON.stringify({ v: 1, ...entryOf(0), key: 'c2' }); // whole JSON, its newline never written
    writeFileSync(recording, whole + cut);
    const resumed = new CassetteRecorder(file, { append: true, runId: 'RUN-C' });
    resumed.record({ ...entryOf(0), key: 'c2' });
    resumed.close();
    const keys = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { key: string }).key);
    expect(keys).toEqual(['c1', 'c2']);
  });

  it('a cassette that cannot be written is a usage error at once, naming why', () => {
    expect(() => new CassetteRecorder(join(dir, 'no', 'such', 'dir', 'c.jsonl'))).toThrow(UsageError);
    expect(() => new CassetteRecorder(join(dir, 'no', 'c.jsonl'))).toThrow(
      `cannot record to the cassette ${join(dir, 'no', 'c.jsonl')}: the directory ${join(dir, 'no')} does not exist`,
    );
    expect(() => new CassetteRecorder(dir)).toThrow(/: it is a directory/);
  });

  it('a missing or corrupt file is a usage error with its line', () => {
    expect(() => new CassettePlayer(join(dir, 'nope.jsonl'))).toThrow(UsageError);
    // Said in words, not as the system call's error (`ENOENT: … open '…'`).
    expect(() => new CassettePlayer(join(dir, 'nope.jsonl'))).toThrow(/nope\.jsonl: no such file$/);
    expect(() => new CassettePlayer(dir)).toThrow(/: it is a directory$/);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify({ v: 1, key: 'k', response: answer() })}\n{oops\n`);
    expect(() => new CassettePlayer(bad)).toThrow(/bad\.jsonl:2: not a cassette line/);
  });
});
