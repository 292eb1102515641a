// `serve --cluster`'s event stream names each event's execution in its id (`SEQ@START-AT`), as a
// local server's does, with the same reconnect semantics. It used to send bare seqs: a client that
// came back with the id of an event a worker's execution sent live but never journaled (the run was
// given up, and resumed, reusing that seq) was resumed after it, and never got the resumed
// execution's events at those seqs. Now it resumes where it and the journal agree; an id of the
// execution a worker runs now is taken at its word; a plain seq still is. In-process service and
// worker, on the machine's Redis and PostgreSQL.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClusterRuns } from '../../src/cluster/remote-runs.js';
import { ClusterWorker } from '../../src/cluster/worker.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import type { EventRecord } from '../../src/journal/store.js';
import { startService } from '../../src/server/service.js';
import { parseSse, seqOf } from '../server/harness.js';
import { REDIS_URL } from './harness.js';
import { FAST_TIMING, inProcessCluster, until } from './in-process.js';

const cluster = inProcessCluster();
const { cleanups } = cluster;

type Sse = ReturnType<typeof parseSse>[number];

async function setUp() {
  const harness = await cluster.harness();
  const config = { redisUrl: REDIS_URL, prefix: harness.prefix };
  const store = new PostgresStore(harness.db);
  cleanups.push(() => store.close());
  await store.migrate();
  const root = join(harness.dir, 'root');
  mkdirSync(root);
  const worker = new ClusterWorker({ config, store, env: {}, concurrency: 1, timing: FAST_TIMING });
  cleanups.push(() => worker.drain());
  await worker.start();
  const runs = new ClusterRuns(config, store);
  cleanups.push(() => runs.close());
  const service = await startService({ store, root, port: 0, env: {}, remote: new ClusterRuns(config, store) });
  cleanups.push(() => service.shutdown(2_000));
  const submit = (yaml: string) => runs.submit(loadPipelineFromString(yaml, 'p.yaml'), {});
  return { store, worker, submit, url: service.url };
}

/** Reads a run's event stream, telling `onEvent` of each event; to its end, or until `onEvent` says enough. */
async function follow(url: string, lastEventId?: string, onEvent: (seen: Sse[]) => boolean = () => false) {
  const abort = new AbortController();
  const response = await fetch(url, {
    signal: abort.signal,
    headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
  });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const seen: Sse[] = [];
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return seen;
      buffer += decoder.decode(value, { stream: true });
      const frames = buffer.split('\n\n');
      buffer = frames.pop() ?? '';
      for (const frame of frames) {
        seen.push(...parseSse(frame));
        if (onEvent(seen)) return seen;
      }
    }
  } finally {
    abort.abort();
  }
}

/** What tells two events at one seq apart: a stop's `at` is its commit's on the bus, not the journal's. */
const identity = (type: string | undefined, at: number): string =>
  type === 'pipeline.step.stop' || type === 'pipeline.execution.stop' ? `${type}` : `${type}@${at}`;

/** A client's view: the last event it received at each seq. */
function view(events: Sse[], into = new Map<number, string>()): Map<number, string> {
  for (const e of events)
    if (e.id !== undefined) into.set(seqOf(e.id), identity(e.event, (e.data as { at: number }).at));
  return into;
}

/** The id an event of the journal has: its seq, and its execution's start. */
function idIn(journal: EventRecord[], seq: number): string {
  const start = journal.findLast((e) => e.type === 'pipeline.execution.start' && e.seq <= seq) as EventRecord;
  return `${seq}@${start.seq}-${start.at}`;
}

const PIPELINE = `name: ids
steps:
  - { name: first, type: mock, prompt: "first", response: "a b c", latency: 400ms }
  - { name: second, type: mock, prompt: "second", response: "d e f", latency: 1500ms }
  - { name: third, type: mock, prompt: "third" }
`;

describe('serve --cluster: event ids name their execution', () => {
  for (const giveUpIn of ['second', 'first']) {
    it(`an id the worker sent live and never journaled (run given up in step ${giveUpIn}): resumed where client and journal agree`, async () => {
      const { store, worker, submit, url } = await setUp();
      const runId = await submit(PIPELINE);
      const events = `${url}/runs/${runId}/events`;
      // The client follows the run; while step `giveUpIn` runs, its worker gives the run up (as when
      // it loses its lock): that execution journals nothing more, and the run is taken again, from
      // the journal — a new execution, on the seqs the given-up one had sent live.
      let gaveUp = false;
      const all = await follow(events, undefined, (seen) => {
        const started = seen.some(
          (e) => e.event === 'pipeline.step.start' && (e.data as { data: { step: string } }).data.step === giveUpIn,
        );
        if (started && !gaveUp) gaveUp = worker.engine.abandon(runId, 'lost its lock (test)');
        return false;
      });
      expect(gaveUp).toBe(true);
      await until('the run to succeed', async () => (await store.getRun(runId))?.status === 'succeeded');
      const journal = await store.getEvents(runId, 0, 10_000);
      const restart = all.findLastIndex((e) => e.event === 'pipeline.execution.start');
      expect(restart).toBeGreaterThan(0);
      const beforeRestart = all.slice(0, restart);
      const last = beforeRestart.filter((e) => e.id !== undefined).at(-1) as Sse;
      const restartSeq = journal.findLast((e) => e.type === 'pipeline.execution.start')?.seq as number;
      expect(seqOf(last.id)).toBeGreaterThanOrEqual(restartSeq); // its seq was reused

      // Every id names its execution: the stream went back to the new one's start, and said so.
      for (const e of all.slice(restart).filter((e) => e.id !== undefined)) {
        expect(e.id).toBe(idIn(journal, seqOf(e.id)));
      }

      // The client that dropped right after the given-up execution's last event comes back with its id.
      const client = view(beforeRestart);
      const rest = await follow(events, last.id);
      view(rest, client);
      expect([...client.keys()].sort((a, b) => a - b)).toEqual(journal.map((e) => e.seq));
      for (const e of journal) expect(client.get(e.seq), `seq ${e.seq}`).toBe(identity(e.type, e.at));
      // Resumed where both agree: the new execution's events from its start, once, named by it.
      expect(rest.filter((e) => e.id !== undefined).map((e) => seqOf(e.id))).toEqual(
        journal.filter((e) => e.seq >= restartSeq).map((e) => e.seq),
      );
      for (const e of rest.filter((e) => e.id !== undefined)) expect(e.id).toBe(idIn(journal, seqOf(e.id)));
    }, 60_000);
  }

  it('an id of the execution a worker runs now, before its first commit, is taken at its word; a plain seq too', async () => {
    const { store, submit, url } = await setUp();
    const runId = await submit(PIPELINE);
    const events = `${url}/runs/${runId}/events`;
    const first = await follow(events, undefined, (seen) => seen.filter((e) => e.id !== undefined).length >= 2);
    const lastId = first.filter((e) => e.id !== undefined).at(-1)?.id as string;
    expect(await store.lastEventSeq(runId)).toBe(0); // nothing journaled yet: the start is the worker's alone
    const start = first[0] as Sse;
    expect(start.event).toBe('pipeline.execution.start');
    const mark = `1-${(start.data as { at: number }).at}`;
    expect(first.filter((e) => e.id !== undefined).map((e) => e.id)).toEqual([`1@${mark}`, `2@${mark}`]);

    const rest = await follow(events, lastId);
    expect(rest.filter((e) => e.id !== undefined).map((e) => seqOf(e.id))[0]).toBe(seqOf(lastId) + 1);
    const journal = await store.getEvents(runId, 0, 10_000);
    expect([...view(first), ...view(rest)].map(([seq]) => seq)).toEqual(journal.map((e) => e.seq));
    for (const e of rest) expect(e.id).toBe(idIn(journal, seqOf(e.id)));

    // A plain seq (an older client, ?after=) resumes right after it, the ids naming their execution.
    const plain = await follow(events, '3');
    expect(plain.map((e) => e.id)).toEqual(journal.filter((e) => e.seq > 3).map((e) => idIn(journal, e.seq)));
  }, 60_000);
});
