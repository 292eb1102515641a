// A client that goes away before its event stream has begun — while the server still reads the
// run and the journal — must be let go at once: the response's pipe, never started, does not tell
// of it, and a stream with nothing to write (Last-Event-ID at the run's end) would watch a quiet
// run for as long as the run lasts, one more for every such client.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { RunRecord } from '../../src/journal/store.js';
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';
import { RunEventHub } from '../../src/server/run-event-hub.js';
import { type Harness, startHarness, TOKEN } from './harness.js';

/** Answers only once released: the run stays active, and emits nothing meanwhile. */
class QuietMock extends MockProvider {
  called = false;
  release: () => void = () => {};
  private readonly held = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  override async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    this.called = true;
    await this.held;
    return super.generate(request, signal);
  }
}

/** Once `hold` is set, its next read of a run waits until `hold` resolves (the route's first read). */
class HeldReadStore extends SqliteStore {
  hold?: Promise<void>;
  entered?: () => void;
  override async getRun(id: string): Promise<RunRecord | undefined> {
    const hold = this.hold;
    if (hold) {
      this.hold = undefined;
      this.entered?.();
      await hold;
    }
    return super.getRun(id);
  }
}

let h: Harness | undefined;
let mock: QuietMock | undefined;
afterEach(async () => {
  mock?.release();
  await h?.close();
  vi.restoreAllMocks();
});

it('stops watching the run of a client gone before its stream began', async () => {
  // The streams watching a run, as the hub sees them.
  const watching = new Set<object>();
  const watch = RunEventHub.prototype.watch;
  const spy = vi.spyOn(RunEventHub.prototype, 'watch').mockImplementation(function (this: RunEventHub, runId, watcher) {
    const unwatch = watch.call(this, runId, watcher);
    const token = {};
    watching.add(token);
    return () => {
      watching.delete(token);
      unwatch();
    };
  });
  const quiet = new QuietMock();
  mock = quiet;
  const store = new HeldReadStore(':memory:');
  h = await startHarness({ store, engine: { providerFactories: { mock: () => quiet } } });
  const submitted = await h.call('/runs', {
    json: { yaml: 'name: quiet\nsteps:\n  - { name: s, type: mock, prompt: go }\n', mock: true },
  });
  const { run_id: runId } = (await submitted.json()) as { run_id: string };
  while (!quiet.called) await sleep(5);
  const last = h.service.engine.lastEventSeq(runId);

  let release: () => void = () => {};
  store.hold = new Promise((resolve) => {
    release = resolve;
  });
  const entered = new Promise<void>((resolve) => {
    store.entered = resolve;
  });
  const { port } = new URL(h.service.url);
  const client = connect(Number(port), '127.0.0.1', () => {
    client.write(
      `GET /runs/${runId}/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKEN}\r\nLast-Event-ID: ${last}\r\n\r\n`,
    );
  });
  await entered; // the route reads the run …
  client.destroy(); // … while its client goes away
  await sleep(50);
  release();
  await sleep(300);
  expect(spy).toHaveBeenCalledTimes(1); // its stream began …
  expect(watching.size).toBe(0); // … and ended
}, 20_000);
