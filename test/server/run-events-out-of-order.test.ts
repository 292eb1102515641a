// A run's events do not always reach an event stream in seq order. A step.stop is journaled (its seq
// taken) before its commit and emitted after it, while a parallel sibling goes on emitting — and on
// PostgreSQL each commit is a transaction of its own, on a connection of its own, so a sibling's
// commit holding later seqs can become visible before the one holding earlier seqs. Here a step's
// commit is held (as a slow PostgreSQL commit is) while its sibling commits: a client following
// the run, or joining it then, must still get every event once, in seq order.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunFence } from '../../src/journal/run-fence.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { EventRecord, StepRecord } from '../../src/journal/store.js';
import { type Harness, readSse, seqOf, startHarness, waitForStatus } from './harness.js';

/** A journal whose commit of step `a` is held until `release()` (nothing of it visible until then). */
class HeldCommitStore extends SqliteStore {
  release: () => void = () => {};
  private readonly released = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  override async commitStep(step: StepRecord, events: EventRecord[] = [], fence?: RunFence): Promise<void> {
    if (step.key === 'a') await this.released;
    return super.commitStep(step, events, fence);
  }
}

// `a` ends first; its commit takes every event so far (seqs 1..n) and is held. `b` ends later and
// commits n+1..m, visible at once, and its step.stop (seq m) is emitted before `a`'s (seq n).
const PIPELINE = `name: fan
steps:
  - name: both
    type: parallel
    steps:
      - { name: a, type: mock, prompt: "first", latency: 1ms }
      - { name: b, type: mock, prompt: "second", latency: 40ms }
  - { name: after, type: mock, prompt: "third" }
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

async function start(): Promise<{ runId: string; harness: Harness; held: HeldCommitStore }> {
  const held = new HeldCommitStore(':memory:');
  store = held;
  h = await startHarness({ store: held });
  const submitted = await h.call('/runs', { json: { yaml: PIPELINE, mock: true } });
  const { run_id } = (await submitted.json()) as { run_id: string };
  return { runId: run_id, harness: h, held };
}

/** Until `b` is committed (and its step.stop emitted) while `a`'s commit is still held. */
async function bCommitted(held: HeldCommitStore, runId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await held.getSteps(runId)).some((s) => s.key === 'b')) {
    if (Date.now() > deadline) throw new Error('b never committed');
    await sleep(5);
  }
  await sleep(20);
}

describe('GET /runs/:id/events when a run’s commits land out of seq order', () => {
  it('sends a step.stop that is emitted after events with later seqs (a client following from the start)', async () => {
    const { runId, harness, held } = await start();
    const reading = readSse(await harness.call(`/runs/${runId}/events`));
    await bCommitted(held, runId);
    held.release();
    const events = await reading;
    await waitForStatus(harness, runId, 'succeeded');

    const journal = await held.getEvents(runId, 0, 10_000);
    expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
    expect(events.map((e) => seqOf(e.id))).toEqual(journal.map((e) => e.seq));
    const stops = events.filter((e) => e.event === 'pipeline.step.stop');
    expect(stops.map((e) => (e.data as { data: { step: string } }).data.step)).toEqual(['a', 'b', 'both', 'after']);
    expect(events.at(-1)?.event).toBe('pipeline.execution.stop');
  }, 20_000);

  it('sends the events of a commit still under way to a client joining while later ones are visible', async () => {
    const { runId, harness, held } = await start();
    await bCommitted(held, runId);
    // The journal now shows b's events but not the earlier ones a's held commit carries.
    const visible = (await held.getEvents(runId, 0, 10_000)).map((e) => e.seq);
    expect(visible[0]).toBeGreaterThan(1);

    const reading = readSse(await harness.call(`/runs/${runId}/events`));
    await sleep(200); // the stream has read the journal, and waits for the missing seqs
    held.release();
    const events = await reading;
    await waitForStatus(harness, runId, 'succeeded');

    const journal = await held.getEvents(runId, 0, 10_000);
    expect(events.map((e) => seqOf(e.id))).toEqual(journal.map((e) => e.seq));
    expect(events[0]?.event).toBe('pipeline.execution.start');
    expect(events.at(-1)?.event).toBe('pipeline.execution.stop');
  }, 20_000);
});
