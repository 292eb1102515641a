// A client that reads is never dropped as slow because the run delivered one event late. Here a
// parallel step's commit is held (as a slow PostgreSQL commit is) while its sibling streams more
// chunks than the backlog limit: those wait in the stream for the held step's stop — not for the
// client — and must not count toward the limit.
import { afterEach, expect, it } from 'vitest';
import type { RunFence } from '../../src/journal/run-fence.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { EventRecord, StepRecord } from '../../src/journal/store.js';
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, StreamChunk } from '../../src/providers/provider.js';
import { type Harness, readSse, seqOf, startHarness, waitForStatus } from './harness.js';

/** A journal whose commit of step `a` is held until `b` is committed. */
class HeldCommitStore extends SqliteStore {
  release: () => void = () => {};
  private readonly released = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  override async commitStep(step: StepRecord, events: EventRecord[] = [], fence?: RunFence): Promise<void> {
    if (step.key === 'a') await this.released;
    await super.commitStep(step, events, fence);
    if (step.key === 'b') setTimeout(() => this.release(), 50);
  }
}

/** Streams as a network does: a turn of the event loop between chunks (a reading client keeps up). */
class TricklingMock extends MockProvider {
  override async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    for await (const chunk of super.stream(request, signal)) {
      yield chunk;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

const BACKLOG = 50;
// `a` ends first (its stop's seq taken, its commit held); `b` then streams 200 chunks past it.
const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ');
const PIPELINE = `name: fan
steps:
  - name: both
    type: parallel
    steps:
      - { name: a, type: mock, prompt: "first", latency: 200ms }
      - { name: b, type: mock, prompt: "second", latency: 250ms, response: "${words}" }
`;

let h: Harness | undefined;
let store: HeldCommitStore | undefined;
afterEach(async () => {
  store?.release();
  await h?.close();
  await store?.close();
  h = undefined;
  store = undefined;
});

it('does not count events held for a missing seq in a reading client’s backlog', async () => {
  store = new HeldCommitStore(':memory:');
  const mock = new TricklingMock();
  h = await startHarness({
    store,
    maxClientBacklog: BACKLOG,
    engine: { providerFactories: { mock: () => mock } },
  });
  const submitted = await h.call('/runs', { json: { yaml: PIPELINE, mock: true, stream: true } });
  const { run_id: runId } = (await submitted.json()) as { run_id: string };
  const events = await readSse(await h.call(`/runs/${runId}/events`));
  await waitForStatus(h, runId, 'succeeded');

  const journal = await store.getEvents(runId, 0, 10_000);
  expect(journal.filter((e) => e.type === 'pipeline.step.chunk').length).toBeGreaterThan(BACKLOG * 2);
  // Not dropped: every event, in seq order, to the run's end.
  expect(events.map((e) => seqOf(e.id))).toEqual(journal.map((e) => e.seq));
  expect(events.at(-1)?.event).toBe('pipeline.execution.stop');
}, 20_000);
