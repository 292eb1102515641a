// The library API as README.md documents it, imported as a user imports it (src/index.ts is the
// package's entry point): `run`, `resume` and `chain` cancelled through an AbortSignal, and the
// errors they reject with exported as classes with the CLI's exit codes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CassetteMissError,
  CassettePlayer,
  CassetteRecorder,
  ConfigError,
  chain,
  ElexirionError,
  Engine,
  EventBus,
  ExitCode,
  MissingKeyError,
  resume,
  run,
  SqliteStore,
  UsageError,
} from '../src/index.js';
import { tempDir } from './engine/harness.js';

// Three steps; the second takes long enough for an abort to land inside it.
const slow = (name = 'slow') =>
  JSON.stringify({
    name,
    inputs: { topic: { type: 'string', default: 'otters' } },
    steps: [
      { name: 'first', type: 'mock', prompt: 'first {{ topic }}', response: 'one' },
      { name: 'second', type: 'mock', prompt: 'second', response: 'two', latency: '3s' },
      { name: 'third', type: 'mock', prompt: 'third', response: 'three' },
    ],
    outputs: { topic: '{{ topic }}', last: '{{ steps.third.output }}' },
  });

function files(): { dir: string; db: string; write: (name: string, text: string) => string } {
  const dir = tempDir('elexirion-library-');
  return {
    dir,
    db: join(dir, 'journal.db'),
    write: (name, text) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    },
  };
}

describe('library API: cancelling through an AbortSignal', () => {
  it('run({ signal }) ends the run interrupted when aborted; resume(run_id) finishes it', async () => {
    const { db, write } = files();
    const file = write('slow.yaml', slow());
    const controller = new AbortController();
    const bus = new EventBus();
    bus.on('pipeline.step.start', (e) => {
      if (e.step === 'second') setTimeout(() => controller.abort(), 20);
    });
    const started = Date.now();
    const result = await run(file, { mock: true, db, signal: controller.signal, engine: { bus } });
    expect(result.status).toBe('interrupted');
    expect(Date.now() - started).toBeLessThan(2500); // not the 3 s of the step it stopped
    expect(result.steps.find((s) => s.name === 'first')?.status).toBe('succeeded');

    const resumed = await resume(result.run_id, { db });
    expect(resumed.status).toBe('succeeded');
    expect(resumed.outputs.last).toBe('three');
  }, 20_000);

  it('an already aborted signal rejects with its reason and starts no run', async () => {
    const { db, write } = files();
    const file = write('slow.yaml', slow());
    const reason = new Error('not now');
    const error = await run(file, { mock: true, db, signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    expect(error).toBe(reason);
    const store = new SqliteStore(db);
    expect((await store.listRuns({})).length).toBe(0);
    await store.close();
  });

  it('chain({ signal }) stops the link that is running, not only the links after it', async () => {
    const { db, write } = files();
    const a = write('a.yaml', slow('a'));
    const b = write('b.yaml', slow('b'));
    const bus = new EventBus();
    const engine = new Engine({ store: new SqliteStore(db), bus, env: {} });
    const controller = new AbortController();
    bus.on('pipeline.step.start', (e) => {
      if (e.step === 'second') setTimeout(() => controller.abort(), 20);
    });
    const started = Date.now();
    const result = await chain([a, b], { engine, mock: true, signal: controller.signal });
    expect(result.status).toBe('interrupted');
    expect(result.links).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(2500);
    await engine.store.close();
  }, 20_000);
});

describe('library API: errors', () => {
  it('rejects with exported classes carrying the CLI exit codes', async () => {
    const { db, write } = files();
    const file = write('slow.yaml', slow());
    const bad = await run(file, { mock: true, db, inputs: { topik: 'x' } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ConfigError);
    expect((bad as ConfigError).exitCode).toBe(ExitCode.invalidInput);

    const unknown = await resume('01NOSUCHRUN', { db }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UsageError);
    expect((unknown as UsageError).exitCode).toBe(ExitCode.invalidInput);

    const claude = write(
      'claude.yaml',
      JSON.stringify({ name: 'c', steps: [{ name: 's', type: 'claude', model: 'claude-haiku-4-5', prompt: 'hi' }] }),
    );
    const noKey = await run(claude, { db, engine: { env: {} } }).catch((e: unknown) => e);
    expect(noKey).toBeInstanceOf(MissingKeyError);
    expect(noKey).toBeInstanceOf(ElexirionError);
    expect((noKey as MissingKeyError).exitCode).toBe(ExitCode.invalidInput);
  });
});

describe('library API: cassettes', () => {
  it('records a run with CassetteRecorder and replays it with CassettePlayer; a call not in it is a CassetteMissError', async () => {
    const { dir, db, write } = files();
    const file = write(
      'two.yaml',
      JSON.stringify({
        name: 'two',
        inputs: { topic: { type: 'string', default: 'otters' } },
        steps: [{ name: 'ask', type: 'mock', prompt: 'about {{ topic }}' }],
        outputs: { answer: '{{ steps.ask.output }}' },
      }),
    );
    const cassette = join(dir, 'calls.jsonl');
    const recorded = await run(file, { mock: true, db, record: new CassetteRecorder(cassette) });
    expect(recorded.status).toBe('succeeded');
    const replayed = await run(file, { mock: true, db, replay: new CassettePlayer(cassette) });
    expect(replayed.status).toBe('succeeded');
    expect(replayed.outputs).toEqual(recorded.outputs);
    // Answered from the cassette: nothing spent.
    expect(replayed.steps[0]?.usage).toEqual({ input_tokens: 0, output_tokens: 0 });
    expect(recorded.steps[0]?.usage.output_tokens).toBeGreaterThan(0);

    const missed = await run(file, { mock: true, db, inputs: { topic: 'owls' }, replay: new CassettePlayer(cassette) });
    expect(missed.status).toBe('failed');
    expect(missed.error).toMatch(/cassette/);
    expect(CassetteMissError.prototype).toBeInstanceOf(ElexirionError);
  });
});
