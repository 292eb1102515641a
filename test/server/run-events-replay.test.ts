// The replay of GET /runs/:id/events reads the journal a page at a time: a client that joins (or
// comes back to) a long run never has more than a page of its events loaded for it, and the events
// journaled while the pages go out still reach it exactly once, in seq order, then the live ones.
// Real server, real SQLite: the store is only observed (every getEvents call recorded) on its way.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { type EventRecord, emptyTotals, type Store } from '../../src/journal/store.js';
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, StreamChunk } from '../../src/providers/provider.js';
import { MAX_BUFFERED } from '../../src/server/run-event-hub.js';
import { type Harness, parseSse, readSse, seqOf, startHarness, waitForStatus } from './harness.js';

/** The most events a replay may load for one client at once. */
const PAGE = 1_000;

interface Read {
  afterSeq: number;
  limit: number | undefined;
  /** The seqs answered. */
  seqs: number[];
}

/** A SQLite journal whose getEvents calls are recorded (and may be held by `onRead`). */
function observedStore(): { store: Store; sqlite: SqliteStore; reads: Read[]; onRead: { hook?: HookFn } } {
  const sqlite = new SqliteStore(':memory:');
  const reads: Read[] = [];
  const onRead: { hook?: HookFn } = {};
  const getEvents = async (runId: string, afterSeq = 0, limit?: number): Promise<EventRecord[]> => {
    const answer = await sqlite.getEvents(runId, afterSeq, limit);
    const read = { afterSeq, limit, seqs: answer.map((e) => e.seq) };
    reads.push(read);
    await onRead.hook?.(read, reads.length);
    return answer;
  };
  const store = new Proxy(sqlite, {
    get(target, key) {
      if (key === 'getEvents') return getEvents;
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, sqlite, reads, onRead };
}
type HookFn = (read: Read, count: number) => Promise<void>;

function expectPaged(reads: Read[]): void {
  expect(reads.length).toBeGreaterThan(0);
  for (const read of reads) {
    expect(read.limit).toBeDefined();
    expect(read.limit).toBeLessThanOrEqual(PAGE);
    expect(read.seqs.length).toBeLessThanOrEqual(PAGE);
  }
}

/**
 * The step prompted `big` streams `big` chunks of `size` characters at once; the others (`more…`),
 * once `open()` is called, `more` small chunks, pausing now and then (so that they are emitted and
 * committed while a replay goes out).
 */
class GatedMock extends MockProvider {
  open: () => void = () => {};
  /** Resolves when a `more` step waits for `open`. */
  waiting: Promise<void>;
  private markWaiting: () => void = () => {};
  private readonly opened = new Promise<void>((resolve) => {
    this.open = resolve;
  });
  constructor(
    private readonly big: number,
    private readonly more = 400,
    private readonly size = 20,
  ) {
    super();
    this.waiting = new Promise((resolve) => {
      this.markWaiting = resolve;
    });
  }
  override async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    const response = await this.generate(request, signal);
    const prompt = request.messages.at(-1)?.content ?? '';
    const text = 'x'.repeat(this.size);
    if (prompt.startsWith('big')) {
      for (let i = 0; i < this.big; i++) yield { type: 'text', text: `${i}${text}` };
    } else {
      this.markWaiting();
      await this.opened;
      for (let i = 0; i < this.more; i++) {
        yield { type: 'text', text: `${prompt} ${i} ` };
        if (i % 25 === 0) await sleep(1);
      }
    }
    yield { type: 'done', response };
  }
}

/**
 * One step that streams more chunks than the hub keeps uncommitted at once, then — as a client
 * joins — goes on streaming, slowly, for a while.
 */
class LongStepMock extends MockProvider {
  streamed: Promise<void>;
  private markStreamed: () => void = () => {};
  constructor(
    private readonly fast: number,
    private readonly slow: number,
  ) {
    super();
    this.streamed = new Promise((resolve) => {
      this.markStreamed = resolve;
    });
  }
  override async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    const response = await this.generate(request, signal);
    for (let i = 0; i < this.fast; i++) yield { type: 'text', text: `f${i} ` };
    this.markStreamed();
    for (let i = 0; i < this.slow; i++) {
      yield { type: 'text', text: `s${i} ` };
      if (i % 5 === 0) await sleep(1);
    }
    yield { type: 'done', response };
  }
}

function pipeline(more: number): string {
  const steps = ['  - { name: big, type: mock, prompt: big }'];
  for (let i = 1; i <= more; i++) steps.push(`  - { name: more${i}, type: mock, prompt: "more${i}" }`);
  return `name: long\nsteps:\n${steps.join('\n')}\n`;
}

let h: Harness | undefined;
let sqlite: SqliteStore | undefined;
let gated: GatedMock | undefined;
afterEach(async () => {
  gated?.open();
  await h?.close();
  await sqlite?.close();
  h = undefined;
  sqlite = undefined;
  gated = undefined;
});

async function start(mock: MockProvider, steps: number) {
  const observed = observedStore();
  sqlite = observed.sqlite;
  if (mock instanceof GatedMock) gated = mock;
  h = await startHarness({ store: observed.store, engine: { providerFactories: { mock: () => mock } } });
  const submitted = await h.call('/runs', { json: { yaml: pipeline(steps), mock: true, stream: true } });
  const { run_id } = (await submitted.json()) as { run_id: string };
  return { ...observed, runId: run_id as string, harness: h };
}

describe('GET /runs/:id/events replays the journal in pages', () => {
  it('never loads more than a page of a long journal for a client', async () => {
    const { reads, sqlite, runId, harness } = await start(new GatedMock(4_500), 0);
    await waitForStatus(harness, runId, 'succeeded');
    const journal = await sqlite.getEvents(runId, 0, 100_000);
    expect(journal.length).toBeGreaterThan(4_500);

    reads.length = 0;
    const events = await readSse(await harness.call(`/runs/${runId}/events`));
    expect(events.map((e) => seqOf(e.id))).toEqual(journal.map((e) => e.seq));
    expect(events.at(-1)?.event).toBe('pipeline.execution.stop');
    expectPaged(reads);
    expect(reads.length).toBeGreaterThanOrEqual(Math.ceil(journal.length / PAGE));
  }, 30_000);

  it('sends each event once, in order, while the run journals more during the replay and after', async () => {
    const mock = new GatedMock(4_500);
    const { reads, onRead, sqlite, runId, harness } = await start(mock, 3);
    await mock.waiting; // `big` is journaled; `more1` waits
    const before = await sqlite.lastEventSeq(runId);

    // As the first page goes out, the run goes on: `more1` streams and commits before the client
    // has its first page, `more2` and `more3` stream and commit while the next pages and the
    // hand-over to live events go out.
    onRead.hook = async (_read, count) => {
      if (count === 1) {
        mock.open();
        const deadline = Date.now() + 10_000;
        while ((await sqlite.getSteps(runId)).length < 2 && Date.now() < deadline) await sleep(5);
      } else await sleep(10);
    };
    const events = await readSse(await harness.call(`/runs/${runId}/events`));
    await waitForStatus(harness, runId, 'succeeded');

    const journal = await sqlite.getEvents(runId, 0, 100_000);
    expect(journal.length).toBeGreaterThan(before + 3 * 400);
    expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
    expect(events.map((e) => seqOf(e.id))).toEqual(journal.map((e) => e.seq));
    expect(events.at(-1)?.event).toBe('pipeline.execution.stop');
    // Events journaled after the replay began came from the journal's later pages.
    expect(reads.slice(1).some((read) => read.seqs.some((seq) => seq > before))).toBe(true);
    expectPaged(reads);
  }, 30_000);

  it('resumes a client that reconnects mid-replay with Last-Event-ID: the rest once, in order', async () => {
    // Big events: the server cannot have written the whole journal ahead into the connection.
    const mock = new GatedMock(10_000, 300, 2_000);
    const { reads, sqlite, runId, harness } = await start(mock, 1);
    await mock.waiting;
    const journaledBefore = await sqlite.lastEventSeq(runId);
    expect(journaledBefore).toBeGreaterThan(10_000);

    // The first connection reads 1,000 events, then goes away.
    const abort = new AbortController();
    const first = await harness.call(`/runs/${runId}/events`, { signal: abort.signal });
    const firstEvents = await readUntil(first, 1_000);
    abort.abort();
    await sleep(500);
    const readForFirst = reads.flatMap((r) => r.seqs).length;
    // Gone, it is sent no more pages: the server stopped far short of the journal's end.
    expect(readForFirst).toBeLessThan(journaledBefore);
    expectPaged(reads);

    // It comes back where it left off, while the run goes on live.
    reads.length = 0;
    const lastId = firstEvents.at(-1)?.id as string;
    const second = await harness.call(`/runs/${runId}/events`, { headers: { 'last-event-id': lastId } });
    mock.open();
    const secondEvents = await readSse(second);
    await waitForStatus(harness, runId, 'succeeded');

    const journal = await sqlite.getEvents(runId, 0, 100_000);
    expect(reads[0]?.afterSeq).toBe(seqOf(lastId));
    expect([...firstEvents, ...secondEvents].map((e) => seqOf(e.id))).toEqual(journal.map((e) => e.seq));
    expect(secondEvents.at(-1)?.event).toBe('pipeline.execution.stop');
    expectPaged(reads);
  }, 60_000);

  it('sends each event once, in order, to a client that joins a step streaming past the hub’s buffer', async () => {
    // The hub has dropped uncommitted events: the hand-over has them journaled and reads them in
    // pages, merged with the hub's buffer, while the step's next events arrive live.
    const mock = new LongStepMock(MAX_BUFFERED + 2_500, 600);
    const { reads, onRead, sqlite, runId, harness } = await start(mock, 0);
    await mock.streamed;
    onRead.hook = () => sleep(20); // time for live events to come while the pages go out
    const events = await readSse(await harness.call(`/runs/${runId}/events`));
    await waitForStatus(harness, runId, 'succeeded');

    const journal = await sqlite.getEvents(runId, 0, 100_000);
    expect(journal.length).toBeGreaterThan(MAX_BUFFERED + 3_100);
    expect(events.map((e) => seqOf(e.id))).toEqual(journal.map((e) => e.seq));
    expect(events.at(-1)?.event).toBe('pipeline.execution.stop');
    expectPaged(reads);
  }, 30_000);
});

/** Reads at least `count` events of a stream (whole ones), then stops reading. */
async function readUntil(response: Response, count: number): Promise<ReturnType<typeof parseSse>> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const blocks: string[] = [];
  let rest = '';
  while (blocks.length < count) {
    const { done, value } = await reader.read();
    if (done) break;
    const parts = (rest + decoder.decode(value, { stream: true })).split('\n\n');
    rest = parts.pop() as string;
    blocks.push(...parts.filter((block) => block.includes('data:')));
  }
  void reader.cancel().catch(() => {});
  return parseSse(blocks.join('\n\n'));
}

describe('a long replay', () => {
  it('lets the server answer other requests between its pages', async () => {
    const observed = observedStore();
    sqlite = observed.sqlite;
    h = await startHarness({ store: observed.store });
    // A finished run of 12 pages of events, journaled as a run's would be.
    const runId = '01LONGREPLAY00000000000000';
    await observed.sqlite.createRun({
      ...{ id: runId, pipelineName: 'long', pipelineHash: 'h', pipeline: {}, inputs: {}, status: 'succeeded' },
      ...{ startedAt: 1, finishedAt: 2, totals: emptyTotals(), metadata: {} },
    });
    const events = Array.from({ length: 12 * PAGE }, (_, i) => ({
      ...{ runId, seq: i + 1, type: 'pipeline.step.chunk', at: 1 },
      data: { runId, step: 'a', text: `chunk ${i}` },
    }));
    await observed.sqlite.appendEvents(events);
    // The health check asked as the replay starts is answered before its last page is read.
    let pagesWhenAnswered: number | undefined;
    let health: Promise<Response> | undefined;
    observed.onRead.hook = async (_read, count) => {
      if (count === 1) {
        health = (h as Harness).call('/health', { auth: false });
        void health.then(() => {
          pagesWhenAnswered = observed.reads.length;
        });
      }
    };
    const stream = await h.call(`/runs/${runId}/events`);
    const received = await readSse(stream);
    await health;
    expect(received).toHaveLength(12 * PAGE);
    expect(pagesWhenAnswered).toBeDefined();
    expect(pagesWhenAnswered).toBeLessThan(observed.reads.length);
  });
});
