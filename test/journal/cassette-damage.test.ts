// What a replay makes of a cassette that is not the one it expects: another format (refused whole,
// saying which and what to do), the last line cut off by a killed recorder (the calls before it
// replay), a recording resumed after such a cut (replays whole), and a call it does not hold
// (the miss says what changed since the recording, not just a hash).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { callKey } from '../../src/journal/call-key.js';
import { type CassetteMissError, CassettePlayer, CassetteRecorder } from '../../src/journal/cassette.js';
import { answer, request } from '../resilience/stub-provider.js';

const dir = mkdtempSync(join(tmpdir(), 'elexirion-cassette-damage-'));

const entry = (content: string, step = 's') => {
  const req = request(content);
  return {
    key: callKey(req),
    step,
    provider: 'stub',
    model: 'stub-model',
    request: req,
    response: answer(content),
    costUsd: 0,
  };
};
const line = (e: object, v: unknown = 1) => `${JSON.stringify({ v, ...e })}\n`;

describe('a cassette of another format', () => {
  it('newer: refused whole, naming both formats and what to do', () => {
    const file = join(dir, 'v2.jsonl');
    writeFileSync(file, line(entry('a'), 2));
    const refused = (() => {
      try {
        new CassettePlayer(file);
      } catch (error) {
        return error as UsageError;
      }
    })();
    expect(refused).toBeInstanceOf(UsageError);
    expect(refused?.message).toBe(`${file}: a cassette of format v2, newer than the v1 this Elexirion reads`);
    expect(refused?.hint).toMatch(/recorded it .*or record it again with --record/);
  });

  it('older: refused whole, saying to record it again', () => {
    const file = join(dir, 'v0.jsonl');
    writeFileSync(file, line(entry('a'), 0));
    expect(() => new CassettePlayer(file)).toThrow(`${file}: a cassette of format v0, older than the v1`);
  });
});

describe('a recorder killed while writing a line', () => {
  it('leaves a cassette whose finished calls replay (the cut line is not one)', () => {
    const file = join(dir, 'cut.jsonl');
    writeFileSync(file, `${line(entry('a'))}${line(entry('b')).slice(0, 40)}`);
    const player = new CassettePlayer(file);
    expect(player.size).toBe(1);
    expect(player.answer(entry('a').key, { step: 's', provider: 'stub', model: 'stub-model' }).response.text).toBe('a');
  });

  it('and resumed to record on: the cassette replays whole, the cut line gone', () => {
    const file = join(dir, 'resumed.jsonl');
    writeFileSync(file, `${line(entry('a'))}${line(entry('b')).slice(0, 40)}`);
    new CassetteRecorder(file, { append: true }).record(entry('b'));
    expect(new CassettePlayer(file).size).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe(`${line(entry('a'))}${line(entry('b'))}`);
  });

  it('a line cut in the middle is still corruption, with its line number', () => {
    const file = join(dir, 'middle.jsonl');
    writeFileSync(file, `${line(entry('a')).slice(0, 40)}\n${line(entry('b'))}`);
    expect(() => new CassettePlayer(file)).toThrow(/middle\.jsonl:1: not a cassette line/);
  });
});

describe('a call the cassette does not hold', () => {
  const file = join(dir, 'miss.jsonl');
  writeFileSync(file, line(entry('the recorded prompt')));
  const player = new CassettePlayer(file);
  const missOf = (req: ReturnType<typeof request>, step = 's', endpoint?: string) => {
    try {
      player.answer(callKey(req, endpoint), { step, provider: 'stub', model: 'stub-model', request: req });
    } catch (error) {
      return (error as CassetteMissError).message;
    }
  };

  it('says what changed since the recording: the prompt, a parameter', () => {
    expect(missOf(request('another prompt'))).toMatch(
      /: the nearest recorded call of this step differs in its messages \(the prompt\)$/,
    );
    expect(missOf(request('the recorded prompt', { maxTokens: 5 }))).toMatch(
      /differs in its max_tokens, temperature, top_p or stop$/,
    );
  });

  it('says when only the endpoint changed, or the step has no call recorded', () => {
    expect(missOf(request('the recorded prompt'), 's', 'http://gateway')).toMatch(/same request but another endpoint/);
    expect(missOf(request('x'), 'other')).toMatch(/: it holds no call of this step$/);
  });
});
