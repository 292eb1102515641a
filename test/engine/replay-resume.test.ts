// A run keeps the options it started with for its resumes — its cassettes too. A run replayed from
// a cassette (`--replay`, offline, in CI) used to be resumed without it: the resume called the real
// provider, and paid. The run now keeps its cassettes' paths (never their contents); a resume
// opens them again, and fails — before any call — when the one it replays from is gone.
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine, type RunHandle } from '../../src/engine/engine.js';
import { UsageError } from '../../src/errors.js';
import { CassettePlayer, CassetteRecorder } from '../../src/journal/cassette.js';
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { answer, request } from '../resilience/stub-provider.js';
import { createHarness, type Harness } from './batch-harness.js';

/** The real provider: every call it answers is paid for. */
class PaidProvider extends MockProvider {
  paid = 0;
  override async generate(req: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const response = await super.generate(req, signal);
    this.paid++;
    return { ...response, costUsd: 0.01 };
  }
}

let h: Harness;
let provider: PaidProvider;
let engine: Engine;
let file: string;
let tape: string;

beforeEach(() => {
  h = createHarness();
  provider = new PaidProvider();
  engine = new Engine({
    store: h.store,
    env: { OPENAI_API_KEY: 'sk-test-000000000000' },
    cache: false,
    gates: new GateRegistry(),
    providerFactories: { openai: () => provider } as never,
  });
  file = h.write(
    'p.yaml',
    JSON.stringify({
      name: 'taped',
      steps: [
        { name: 'a', type: 'openai', model: 'gpt-4o', prompt: 'a' },
        { name: 'b', type: 'openai', model: 'gpt-4o', prompt: 'b' },
      ],
    }),
  );
  tape = join(h.dir, 'tape.jsonl');
});
afterEach(async () => {
  await h.cleanup();
});

/** Interrupts the run of `handle` once its step `a` is journaled. */
function interruptAfterA(handle: RunHandle): void {
  const off = engine.bus.on('pipeline.step.stop', (e) => {
    if (e.runId === handle.runId && e.step === 'a') {
      off();
      handle.stop('interrupted');
    }
  });
}

/** Records the whole pipeline to `tape` (two paid calls), then starts a replay stopped after `a`. */
async function interruptedReplay(): Promise<string> {
  const recorded = await (await engine.start(await loadPipeline(file), { record: new CassetteRecorder(tape) })).result;
  expect(recorded.status).toBe('succeeded');
  const handle = await engine.start(await loadPipeline(file), { replay: new CassettePlayer(tape) });
  interruptAfterA(handle);
  const stopped = await handle.result;
  expect(stopped.status).toBe('interrupted');
  expect(provider.paid).toBe(2);
  return handle.runId;
}

describe('resuming a replayed run', () => {
  it('answers from the same cassette: the provider is never called', async () => {
    const runId = await interruptedReplay();
    const resumed = await (await engine.resume(runId)).result;
    expect(provider.paid).toBe(2);
    expect(resumed.status).toBe('succeeded');
    expect(resumed.totals).toMatchObject({ cost_usd: 0, cache_hits: 2 });
    expect(resumed.steps.map((s) => s.name)).toEqual(['a', 'b']);
    // The journal keeps where the cassette is, not what it holds.
    expect((await h.store.getRun(runId))?.metadata.options).toEqual({ replay: tape });
  });

  it('fails with a clear error, calling nothing, when its cassette is gone; the run stays resumable', async () => {
    const runId = await interruptedReplay();
    rmSync(tape);
    const refused = await engine.resume(runId).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(UsageError);
    expect((refused as UsageError).message).toContain(`--replay ${tape}`);
    expect((refused as UsageError).message).toMatch(/would call the real providers/);
    expect((refused as UsageError).hint).toMatch(/--replay FILE/);
    expect(provider.paid).toBe(2);
    expect((await h.store.getRun(runId))?.status).toBe('interrupted');
  });

  it('answers from the cassette the resume is given instead, and keeps that one', async () => {
    const runId = await interruptedReplay();
    const moved = join(h.dir, 'moved.jsonl');
    copyFileSync(tape, moved);
    rmSync(tape);
    const resumed = await (await engine.resume(runId, { replay: new CassettePlayer(moved) })).result;
    expect(resumed.status).toBe('succeeded');
    expect(provider.paid).toBe(2);
    expect((await h.store.getRun(runId))?.metadata.options).toEqual({ replay: moved });
  });
});

describe('resuming a recorded run', () => {
  it('goes on recording to its cassette: the cassette holds every call of the run, once', async () => {
    const handle = await engine.start(await loadPipeline(file), { record: new CassetteRecorder(tape) });
    interruptAfterA(handle);
    expect((await handle.result).status).toBe('interrupted');
    expect(readFileSync(tape, 'utf8').trim().split('\n')).toHaveLength(1);

    const resumed = await (await engine.resume(handle.runId)).result;
    expect(resumed.status).toBe('succeeded');
    expect(provider.paid).toBe(2);
    const lines = readFileSync(tape, 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { step: string }).step)).toEqual(['a', 'b']);

    // The whole run replays from it, offline.
    const replayed = await (await engine.start(await loadPipeline(file), { replay: new CassettePlayer(tape) })).result;
    expect(replayed.status).toBe('succeeded');
    expect(provider.paid).toBe(2);
  });
});

describe('CassetteRecorder, appending', () => {
  const entry = (key: string) => ({
    key,
    step: 's',
    provider: 'stub',
    model: 'm',
    request: request(),
    response: answer(key),
    costUsd: 0.1,
  });

  it('keeps what the cassette holds and writes no call twice', () => {
    const first = new CassetteRecorder(tape);
    first.record(entry('k1'));
    first.close(); // its run ended
    const again = new CassetteRecorder(tape, { append: true });
    again.record(entry('k1'));
    again.record(entry('k2'));
    again.close();
    expect(new CassettePlayer(tape).size).toBe(2);
    expect(readFileSync(tape, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('starts a cassette that is gone, and a new line after one cut off', () => {
    const gone = join(h.dir, 'gone.jsonl');
    const restarted = new CassetteRecorder(gone, { append: true });
    restarted.record(entry('k1'));
    restarted.close();
    expect(existsSync(gone)).toBe(true);
    const cut = join(h.dir, 'cut.jsonl');
    writeFileSync(cut, `${JSON.stringify({ v: 1, ...entry('k1') })}\n{"v":1,"key":"k`);
    new CassetteRecorder(cut, { append: true }).record(entry('k2'));
    expect(readFileSync(cut, 'utf8').split('\n').at(-2)).toContain('"key":"k2"');
  });
});
