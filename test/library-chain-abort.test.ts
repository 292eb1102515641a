// `chain()` from the library with a signal aborted before its first link starts: it rejects with
// the signal's reason and starts nothing, as `run` and `resume` do. It resolved `interrupted` with
// `chain_id: ''` — a result naming no chain, which a caller could not resume.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chain, Engine, EventBus, SqliteStore } from '../src/index.js';
import { tempDir } from './engine/harness.js';

const pipeline = (name: string) =>
  JSON.stringify({ name, steps: [{ name: 'only', type: 'mock', prompt: 'hi', response: 'done' }] });

async function setup() {
  const dir = tempDir('elexirion-chain-abort-');
  const files = ['a.yaml', 'b.yaml'].map((name) => {
    const file = join(dir, name);
    writeFileSync(file, pipeline(name.replace('.yaml', '')));
    return file;
  });
  const bus = new EventBus();
  const started: string[] = [];
  bus.on('pipeline.execution.start', (e) => started.push(e.runId));
  const store = new SqliteStore(join(dir, 'journal.db'));
  return { files, engine: new Engine({ store, bus, env: {} }), store, started };
}

describe('chain() with an aborted signal', () => {
  it('already aborted: rejects with its reason, no link started, no run journaled', async () => {
    const { files, engine, store, started } = await setup();
    const reason = new Error('not now');
    const links: unknown[] = [];
    const error = await chain(files, {
      engine,
      mock: true,
      signal: AbortSignal.abort(reason),
      onLink: (event) => links.push(event),
    }).catch((e: unknown) => e);
    expect(error).toBe(reason);
    expect(links).toEqual([]);
    expect(started).toEqual([]);
    expect(await store.listRuns({})).toEqual([]);
    await store.close();
  });

  it('aborted while its files load: rejects with its reason, nothing started', async () => {
    const { files, engine, store, started } = await setup();
    const controller = new AbortController();
    const running = chain(files, { engine, mock: true, signal: controller.signal });
    // chain() is loading the files (asynchronously) when the abort comes.
    controller.abort();
    const error = await running.catch((e: unknown) => e);
    expect(error).toBe(controller.signal.reason);
    expect((error as Error).name).toBe('AbortError');
    expect(started).toEqual([]);
    expect(await store.listRuns({})).toEqual([]);
    await engine.drain();
    await store.close();
  });
});
