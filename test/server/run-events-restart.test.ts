// A run that crashes mid-step (its journal refused a commit) is restarted from the journal in the
// same process. The crashed execution had sent live events its commit would have journaled; the
// restart continues the seqs from the journal's end, so it reuses theirs. A client following the
// run must end with the journal's event at every seq — ids go back at the restart's
// execution.start — and a client joining after the restart must get none of the crashed events.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { EventRecord, StepRecord } from '../../src/journal/store.js';
import { type Harness, parseSse, readSse, seqOf, startHarness, waitForStatus } from './harness.js';

/** A journal that refuses the first commit of step `second`: the run crashes and restarts. */
class RefusesOnceStore extends SqliteStore {
  refused = false;
  override async commitStep(step: StepRecord, events: EventRecord[] = []): Promise<void> {
    if (step.key === 'second' && !this.refused) {
      this.refused = true;
      throw new Error('disk full for a moment');
    }
    return super.commitStep(step, events);
  }
}

// `first` is slow enough for a client to be following live before `second` streams and crashes;
// the restart takes `second`'s answer from the call cache (one chunk: fewer seqs than the crashed
// execution used), so `third` runs on seqs the crashed execution had used too.
const PIPELINE = `name: crashy
steps:
  - { name: first, type: mock, prompt: "first", latency: 300ms }
  - { name: second, type: mock, prompt: "second", response: "one two three four five six seven" }
  - { name: third, type: mock, prompt: "third", latency: 400ms }
`;

let h: Harness | undefined;
let store: RefusesOnceStore | undefined;
afterEach(async () => {
  await h?.close();
  await store?.close();
  h = undefined;
  store = undefined;
});

/** What tells two events at one seq apart: a stop's `at` is its commit's on the bus, not the journal's. */
const identity = (type: string | undefined, at: number): string =>
  type === 'pipeline.step.stop' || type === 'pipeline.execution.stop' ? `${type}` : `${type}@${at}`;

describe('GET /runs/:id/events across a crash restart of the run', () => {
  it('a client following live ends with the journal’s event at every seq', async () => {
    store = new RefusesOnceStore(':memory:');
    h = await startHarness({ store });
    const submitted = await h.call('/runs', { json: { yaml: PIPELINE, mock: true, stream: true } });
    const { run_id: runId } = (await submitted.json()) as { run_id: string };
    const events = await readSse(await h.call(`/runs/${runId}/events`));
    await waitForStatus(h, runId, 'succeeded');
    expect(store.refused).toBe(true);

    const journal = await store.getEvents(runId, 0, 10_000);
    const last = new Map<number, string>();
    for (const e of events) {
      if (e.id === undefined) continue;
      last.set(seqOf(e.id), identity(e.event, (e.data as { at: number }).at));
    }
    expect([...last.keys()].sort((a, b) => a - b)).toEqual(journal.map((e) => e.seq));
    for (const e of journal) expect(last.get(e.seq), `seq ${e.seq}`).toBe(identity(e.type, e.at));
    // The restart is announced: its execution.start is where the ids go back.
    const starts = events.filter((e) => e.event === 'pipeline.execution.start');
    expect(starts.length).toBe(2);
    expect(events.at(-1)?.event).toBe('pipeline.execution.stop');
  }, 20_000);

  it('a client joining after the restart gets none of the crashed execution’s events', async () => {
    store = new RefusesOnceStore(':memory:');
    h = await startHarness({ store });
    const submitted = await h.call('/runs', { json: { yaml: PIPELINE, mock: true, stream: true } });
    const { run_id: runId } = (await submitted.json()) as { run_id: string };
    // Joins while the restart runs `third`: the hub still held the crashed execution's events.
    const harness = h;
    const crashed = store;
    while (!crashed.refused) await sleep(5);
    await sleep(150); // past the restart's backoff (50 ms), into `third`
    const response = await harness.call(`/runs/${runId}/events`);
    const events = parseSse(await response.text());
    await waitForStatus(harness, runId, 'succeeded');

    const journal = await crashed.getEvents(runId, 0, 10_000);
    const withIds = events.filter((e) => e.id !== undefined);
    expect(withIds.map((e) => seqOf(e.id))).toEqual(journal.map((e) => e.seq));
    expect(withIds.map((e) => identity(e.event, (e.data as { at: number }).at))).toEqual(
      journal.map((e) => identity(e.type, e.at)),
    );
  }, 20_000);
});
