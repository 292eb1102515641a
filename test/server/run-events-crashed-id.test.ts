// A client that reconnects with the id of an event its run's crashed execution sent live but never
// journaled: the restarted execution reused that seq (and those before it, back to its start) for
// other events. With a bare seq for id, the stream resumed after it and the client never got the new
// execution's events at those seqs. The id names its execution (SEQ@START-AT): the stream resumes
// where the client and the journal still agree, and the client ends with the journal's event at
// every seq. A plain seq from an older client is still taken at its word.
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { EventRecord, StepRecord } from '../../src/journal/store.js';
import { type Harness, readSse, seqOf, startHarness, waitForStatus } from './harness.js';

/** A journal that refuses the first commit of step `key`: the run crashes there and restarts. */
class RefusesOnceStore extends SqliteStore {
  refused = false;
  constructor(private readonly key: string) {
    super(':memory:');
  }
  override async commitStep(step: StepRecord, events: EventRecord[] = []): Promise<void> {
    if (step.key === this.key && !this.refused) {
      this.refused = true;
      throw new Error('disk full for a moment');
    }
    return super.commitStep(step, events);
  }
}

// The restart takes `second`'s answer from the call cache (one chunk): fewer seqs than the crashed
// execution used, so `third` runs on seqs the crashed execution had sent too.
const PIPELINE = `name: crashy
steps:
  - { name: first, type: mock, prompt: "first", response: "a b c d e f", latency: 200ms }
  - { name: second, type: mock, prompt: "second", response: "one two three four five six seven" }
  - { name: third, type: mock, prompt: "third" }
`;

let h: Harness | undefined;
let store: RefusesOnceStore | undefined;
afterEach(async () => {
  await h?.close();
  await store?.close();
  h = undefined;
  store = undefined;
});

type Sse = Awaited<ReturnType<typeof readSse>>[number];
/** What tells two events at one seq apart: a stop's `at` is its commit's on the bus, not the journal's. */
const identity = (type: string | undefined, at: number): string =>
  type === 'pipeline.step.stop' || type === 'pipeline.execution.stop' ? `${type}` : `${type}@${at}`;

/** A client's view: the last event it received at each seq. */
function view(events: Sse[], into = new Map<number, string>()): Map<number, string> {
  for (const e of events)
    if (e.id !== undefined) into.set(seqOf(e.id), identity(e.event, (e.data as { at: number }).at));
  return into;
}

/** Follows the whole run live; returns what it received before the restart, and the run. */
async function crashedRun(crashAt: string): Promise<{ runId: string; beforeRestart: Sse[]; journal: EventRecord[] }> {
  store = new RefusesOnceStore(crashAt);
  h = await startHarness({ store });
  const submitted = await h.call('/runs', { json: { yaml: PIPELINE, mock: true, stream: true } });
  const { run_id: runId } = (await submitted.json()) as { run_id: string };
  const events = await readSse(await h.call(`/runs/${runId}/events`));
  await waitForStatus(h, runId, 'succeeded');
  expect(store.refused).toBe(true);
  const restart = events.findLastIndex((e) => e.event === 'pipeline.execution.start');
  expect(restart).toBeGreaterThan(0);
  return { runId, beforeRestart: events.slice(0, restart), journal: await store.getEvents(runId, 0, 10_000) };
}

describe('Last-Event-ID of an event the crashed execution sent but never journaled', () => {
  for (const crashAt of ['second', 'first']) {
    it(`crash at step ${crashAt}: the client ends with the journal’s event at every seq`, async () => {
      const { runId, beforeRestart, journal } = await crashedRun(crashAt);
      // The client dropped right after the crashed execution's last event, never journaled.
      const last = beforeRestart.filter((e) => e.id !== undefined).at(-1) as Sse;
      const restartSeq = journal.findLast((e) => e.type === 'pipeline.execution.start')?.seq as number;
      expect(seqOf(last.id)).toBeGreaterThanOrEqual(restartSeq); // its seq was reused
      const client = view(beforeRestart);
      const rest = await readSse(
        await (h as Harness).call(`/runs/${runId}/events`, { headers: { 'last-event-id': last.id as string } }),
      );
      view(rest, client);
      expect([...client.keys()].sort((a, b) => a - b)).toEqual(journal.map((e) => e.seq));
      for (const e of journal) expect(client.get(e.seq), `seq ${e.seq}`).toBe(identity(e.type, e.at));
      // Resumed where both agree: the restarted execution's events from its start, once.
      expect(rest.map((e) => seqOf(e.id))).toEqual(journal.filter((e) => e.seq >= restartSeq).map((e) => e.seq));
      // Each named by the restarted execution: the client's next reconnect is taken at its word.
      const restart = journal.find((e) => e.seq === restartSeq) as EventRecord;
      for (const e of rest) expect(e.id).toBe(`${seqOf(e.id)}@${restartSeq}-${restart.at}`);
    }, 20_000);
  }

  it('ids name their execution; a plain seq (an older client) resumes right after it, as before', async () => {
    const { runId, journal } = await crashedRun('second');
    const starts = journal.filter((e) => e.type === 'pipeline.execution.start');
    const all = await readSse(await (h as Harness).call(`/runs/${runId}/events`));
    for (const e of all) {
      const start = starts.findLast((s) => s.seq <= seqOf(e.id)) as EventRecord;
      expect(e.id).toBe(`${seqOf(e.id)}@${start.seq}-${start.at}`);
    }
    const plain = await readSse(
      await (h as Harness).call(`/runs/${runId}/events`, { headers: { 'last-event-id': '3' } }),
    );
    expect(plain.map((e) => e.id)).toEqual(all.filter((e) => seqOf(e.id) > 3).map((e) => e.id));
  }, 20_000);
});

describe('Last-Event-ID of the execution under way, before its first commit', () => {
  it('is taken at its word: the stream goes on after it, nothing sent twice', async () => {
    h = await startHarness();
    const harness = h;
    // Steps of 1 s: the execution's start is not journaled before the first step's commit.
    const submitted = await harness.call('/runs', { json: { file: 'pipelines/very-slow.yaml', mock: true } });
    const { run_id: runId } = (await submitted.json()) as { run_id: string };
    const abort = new AbortController();
    const first = await harness.call(`/runs/${runId}/events`, { signal: abort.signal });
    const reader = (first.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while ((text.match(/^id: /gm) ?? []).length < 2) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    abort.abort();
    const lastId = [...text.matchAll(/^id: (.*)$/gm)].at(-1)?.[1] as string;
    expect(await harness.store.lastEventSeq(runId)).toBe(0); // nothing journaled yet
    const rest = await readSse(await harness.call(`/runs/${runId}/events`, { headers: { 'last-event-id': lastId } }));
    await waitForStatus(harness, runId, 'succeeded');
    expect(rest.map((e) => seqOf(e.id))[0]).toBe(seqOf(lastId) + 1);
  }, 20_000);
});
