// A run that ends while a client's stream is in its hand-over (the journal read after the replay,
// before live events go out as they come): the hand-over reads the run's last events, its
// execution.stop among them, and writes them one by one (to a slow client, over a while). The
// stop, emitted live meanwhile, must not end the stream before what was read is written: the
// client would miss the run's end (and the events before it), and must reconnect to learn of it.
import { afterEach, expect, it, vi } from 'vitest';
import type { RunFence } from '../../src/journal/run-fence.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { EventRecord, RunRecord } from '../../src/journal/store.js';
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, StreamChunk } from '../../src/providers/provider.js';
import { EventOrder } from '../../src/server/routes/event-order.js';
import { type Harness, readSse, seqOf, startHarness } from './harness.js';

/** Fewer than a page of the journal (REPLAY_PAGE): the hand-over reads them, the stop included, at once. */
const CHUNKS = 900;

/** Streams CHUNKS chunks once `go` is called. */
class HeldStream extends MockProvider {
  go: () => void = () => {};
  private readonly started = new Promise<void>((resolve) => {
    this.go = resolve;
  });
  override async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    const response = await this.generate(request, signal);
    await this.started;
    for (let i = 0; i < CHUNKS; i++) yield { type: 'text', text: `t${i} ` };
    yield { type: 'done', response };
  }
}

/**
 * Once `armed`: the stream's replay (its first read) lets the run go, and is answered — with what
 * it read before — once the run has journaled its execution.stop. The stop's emission (after the
 * run's final update) is held until `release`.
 */
class HandOverStore extends SqliteStore {
  armed = false;
  run?: HeldStream;
  release: () => void = () => {};
  private readonly released = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  private stopJournaled: () => void = () => {};
  private readonly journaledStop = new Promise<void>((resolve) => {
    this.stopJournaled = resolve;
  });

  override async appendEvents(events: EventRecord[], fence?: RunFence): Promise<void> {
    await super.appendEvents(events, fence);
    if (events.some((e) => e.type === 'pipeline.execution.stop')) this.stopJournaled();
  }
  override async updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>, fence?: RunFence): Promise<void> {
    if (patch.status === 'succeeded') await this.released;
    return super.updateRun(id, patch, fence);
  }
  override async getEvents(runId: string, afterSeq?: number, limit?: number): Promise<EventRecord[]> {
    const page = await super.getEvents(runId, afterSeq, limit);
    if (this.armed) {
      this.armed = false;
      this.run?.go();
      await this.journaledStop;
    }
    return page;
  }
}

let h: Harness | undefined;
let store: HandOverStore | undefined;
afterEach(async () => {
  store?.release();
  await h?.close();
  await store?.close();
  h = undefined;
  store = undefined;
  vi.restoreAllMocks();
});

it('writes the run’s last events, its stop included, when the stop comes live during the hand-over', async () => {
  const run = new HeldStream();
  const held = new HandOverStore(':memory:');
  held.run = run;
  store = held;
  h = await startHarness({ store: held, engine: { providerFactories: { mock: () => run } } });
  const submitted = await h.call('/runs', {
    json: { yaml: 'name: ends\nsteps:\n  - { name: s, type: mock, prompt: go }\n', mock: true, stream: true },
  });
  const { run_id: runId } = (await submitted.json()) as { run_id: string };

  // The stop is emitted as the stream takes the events it read to write them: it comes live while
  // they are written, each an await of its own.
  const take = EventOrder.prototype.take;
  vi.spyOn(EventOrder.prototype, 'take').mockImplementation(function (this: EventOrder) {
    const ready = take.call(this);
    if (ready.some((q) => q.event.type === 'pipeline.execution.stop')) held.release();
    return ready;
  });
  held.armed = true;
  const events = await readSse(await h.call(`/runs/${runId}/events`));

  const journal = await held.getEvents(runId, 0, 10_000);
  expect(events.filter((e) => e.event === 'pipeline.step.chunk').length).toBe(CHUNKS);
  expect(events.map((e) => seqOf(e.id))).toEqual(journal.map((e) => e.seq));
  expect(events.at(-1)?.event).toBe('pipeline.execution.stop');
}, 20_000);
