// A client that joins (or reconnects to) a run while a step streams more events than the hub keeps
// uncommitted must still get every event once: the ones the hub dropped come from the journal.
import { afterEach, describe, expect, it } from 'vitest';
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, StreamChunk } from '../../src/providers/provider.js';
import { MAX_BUFFERED } from '../../src/server/run-event-hub.js';
import { type Harness, readSse, seqOf, startHarness, waitForStatus } from './harness.js';

const CHUNKS = MAX_BUFFERED + 1_500;

/** Streams CHUNKS chunks, then holds the step open until `release` (the step stays uncommitted). */
class LongStreamMock extends MockProvider {
  release: () => void = () => {};
  streamed!: Promise<void>;
  private readonly held = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  private markStreamed: () => void = () => {};

  constructor() {
    super();
    this.streamed = new Promise((resolve) => {
      this.markStreamed = resolve;
    });
  }

  override async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    const response = await this.generate(request, signal);
    for (let i = 0; i < CHUNKS; i++) yield { type: 'text', text: `t${i} ` };
    this.markStreamed();
    await this.held;
    yield { type: 'done', response };
  }
}

const PIPELINE = `name: long
steps:
  - name: s
    type: mock
    prompt: "go"
`;

describe('GET /runs/:id/events while a step streams past the hub’s buffer', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  for (const lastEventId of [undefined, '100']) {
    it(`sends every event once to a client joining mid-step (Last-Event-ID: ${lastEventId ?? 'none'})`, async () => {
      const mock = new LongStreamMock();
      h = await startHarness({ engine: { providerFactories: { mock: () => mock } } });
      const submitted = await h.call('/runs', { json: { yaml: PIPELINE, mock: true, stream: true } });
      const { run_id } = (await submitted.json()) as { run_id: string };
      await mock.streamed;

      const headers: Record<string, string> = lastEventId === undefined ? {} : { 'last-event-id': lastEventId };
      const response = await h.call(`/runs/${run_id}/events`, { headers });
      const reading = readSse(response);
      // The stream has replayed what came before it joined once a later event reaches it.
      await new Promise((r) => setTimeout(r, 200));
      mock.release();
      const events = await reading;
      await waitForStatus(h, run_id, 'succeeded');

      // Exactly the run's journal after Last-Event-ID, in order: nothing missing, nothing twice.
      const after = Number(lastEventId ?? 0);
      const journal = await h.store.getEvents(run_id, after, 100_000);
      expect(journal.length).toBeGreaterThan(CHUNKS - after);
      expect(events.map((e) => seqOf(e.id))).toEqual(journal.map((e) => e.seq));
      expect(journal[0]?.seq).toBe(after + 1);
      expect(events.at(-1)?.event).toBe('pipeline.execution.stop');
    }, 20_000);
  }
});
