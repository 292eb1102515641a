// Live events across the cluster, with real processes (a worker, `run --cluster`, `serve --cluster`)
// on the machine's Redis and PostgreSQL: a streaming step's tokens reach the follower while the
// step runs, not with its commit; the SSE stream's ids are the journal's seqs, in order, each once,
// for a client that reconnects too, and after the worker dies mid-stream. Needs `npm run build`.
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { AnthropicFake } from '../fakes/index.js';
import { type ClusterHarness, clusterHarness, runCli, startServe } from './harness.js';

let h: ClusterHarness | undefined;
let fake: AnthropicFake | undefined;
let stopServe: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stopServe?.();
  await h?.cleanup();
  await fake?.stop();
  stopServe = undefined;
  h = undefined;
  fake = undefined;
});

const WORDS = Array.from({ length: 12 }, (_, i) => `w${String(i + 1).padStart(2, '0')}`);
const ANSWER = WORDS.join(' ');
/** Between two events of the fake's stream: the 12 tokens take over a second to arrive. */
const CHUNK_DELAY_MS = 100;

/** A streamed Claude answer of twelve tokens, then a mock step. */
const PIPELINE = [
  'name: live',
  'steps:',
  '  - name: answer',
  '    type: claude',
  '    model: claude-sonnet-4-5',
  '    prompt: "twelve words"',
  '  - name: after',
  '    type: mock',
  '    prompt: "after"',
  '',
].join('\n');

async function liveCluster(): Promise<ClusterHarness> {
  const harness = await clusterHarness();
  fake = new AnthropicFake();
  await fake.start();
  fake.chunkDelayMs = CHUNK_DELAY_MS;
  fake.setScript(() => ({ text: ANSWER, chunks: WORDS.length }));
  Object.assign(harness.env, { ANTHROPIC_API_KEY: 'test-key-live', ANTHROPIC_BASE_URL: fake.baseUrl });
  harness.write('live.yaml', PIPELINE);
  return harness;
}

interface SseEvent {
  /** The seq the event's `id:` names (`SEQ@START-AT`). */
  id?: number;
  /** The `id:` as sent, for Last-Event-ID. */
  rawId?: string;
  type: string;
  payload: { seq: number | null; type: string; data: Record<string, unknown> };
  receivedAt: number;
}

/** Reads a run's event stream to its end, or until `enough` says so. */
async function readEvents(
  url: string,
  options: { lastEventId?: string; enough?: (events: SseEvent[]) => boolean } = {},
): Promise<SseEvent[]> {
  const abort = new AbortController();
  const response = await fetch(url, {
    signal: abort.signal,
    headers: options.lastEventId === undefined ? {} : { 'last-event-id': options.lastEventId },
  });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return events;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        const field = (name: string) => new RegExp(`^${name}: ?(.*)$`, 'm').exec(frame)?.[1];
        const data = field('data');
        if (data === undefined) continue; // a keep-alive comment
        const id = field('id');
        events.push({
          ...(id === undefined ? {} : { id: Number(id.split('@')[0]), rawId: id }),
          type: field('event') as string,
          payload: JSON.parse(data),
          receivedAt: Date.now(),
        });
        if (options.enough?.(events)) return events;
      }
    }
  } finally {
    abort.abort();
  }
}

/** The tokens of the streamed Claude step (the mock step after it streams too). */
const chunksOf = (events: SseEvent[]) =>
  events.filter((e) => e.type === 'pipeline.step.chunk' && e.payload.data.step === 'answer');
const idsAndTypes = (events: SseEvent[]) => events.filter((e) => e.id !== undefined).map((e) => [e.id, e.type]);

async function submit(url: string): Promise<string> {
  const response = await fetch(`${url}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ file: 'live.yaml', stream: true }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { run_id: string }).run_id;
}

describe('live events in cluster mode', () => {
  it('run --cluster --stream prints a step’s tokens as they come, before the step ends', async () => {
    h = await liveCluster();
    await h.startWorker();
    const file = `${h.dir}/live.yaml`;
    const { child, done } = runCli(['run', file, '--cluster', '--stream'], h.env);
    let out = '';
    let err = '';
    let firstTokenAt: number | undefined;
    let lastTokenAt: number | undefined;
    let stepEndAt: number | undefined;
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes(WORDS[0] as string)) firstTokenAt ??= Date.now();
      if (out.includes(WORDS.at(-1) as string)) lastTokenAt ??= Date.now();
    });
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      if (/✓ answer/.test(err)) stepEndAt ??= Date.now();
    });
    const run = await done;
    expect(run.code, run.stderr).toBe(0);
    // --stream reached the worker (the step does not ask for streaming itself); each token once.
    expect(run.stdout).toContain(ANSWER);
    expect(run.stdout.split(WORDS[0] as string)).toHaveLength(2);
    expect(run.stderr).toMatch(/✓ after/);
    // The tokens came one by one while the step ran (the fake spaces them CHUNK_DELAY_MS apart),
    // not all at once with the step's commit.
    const [first, last, end] = [firstTokenAt, lastTokenAt, stepEndAt] as [number, number, number];
    expect(last - first).toBeGreaterThan(CHUNK_DELAY_MS * 6);
    expect(end - first).toBeGreaterThan(CHUNK_DELAY_MS * 6);
  }, 60_000);

  it('serve --cluster streams events live with their journal seqs, to a reconnecting client too', async () => {
    h = await liveCluster();
    await h.startWorker();
    const serve = await startServe(h);
    stopServe = serve.stop;
    const { url } = serve;
    const id = await submit(url);
    const events = `${url}/runs/${id}/events`;
    // One client reads it all; another leaves after three tokens and comes back with Last-Event-ID.
    const whole = readEvents(events);
    const firstPart = await readEvents(events, { enough: (seen) => chunksOf(seen).length >= 3 });
    const lastId = firstPart.filter((e) => e.id !== undefined).at(-1)?.rawId as string;
    const rest = await readEvents(events, { lastEventId: lastId });
    const all = await whole;

    const reader = new PostgresStore(h.db);
    try {
      expect((await reader.getRun(id))?.status).toBe('succeeded');
      const journal = (await reader.getEvents(id)).map((e) => [e.seq, e.type]);
      expect(journal.map(([seq]) => seq)).toEqual(journal.map((_, i) => i + 1));
      // Every journaled event, with its seq as id, in order, once — and nothing else.
      expect(idsAndTypes(all)).toEqual(journal);
      expect(all.every((e) => e.id === undefined || e.payload.seq === e.id)).toBe(true);
      expect(all.filter((e) => e.id === undefined)).toEqual([]);
      expect(idsAndTypes([...firstPart, ...rest])).toEqual(journal);
      expect(chunksOf(all).map((e) => e.payload.data.text)).toEqual(WORDS.map((w, i) => (i < 11 ? `${w} ` : w)));
    } finally {
      await reader.close();
    }
    // Live: the tokens arrived over the step's second of streaming, well before its stop.
    const chunks = chunksOf(all);
    const stop = all.find((e) => e.type === 'pipeline.step.stop' && e.payload.data.step === 'answer') as SseEvent;
    const firstAt = (chunks[0] as SseEvent).receivedAt;
    expect((chunks.at(-1) as SseEvent).receivedAt - firstAt).toBeGreaterThan(CHUNK_DELAY_MS * 6);
    expect(stop.receivedAt - firstAt).toBeGreaterThan(CHUNK_DELAY_MS * 6);
  }, 60_000);

  it('after a worker dies mid-stream, the stream goes back to where the journal ends and misses nothing', async () => {
    h = await liveCluster();
    const first = await h.startWorker({}, ['--concurrency', '1']);
    const serve = await startServe(h);
    stopServe = serve.stop;
    const { url } = serve;
    const id = await submit(url);
    let killed = false;
    const all = await readEvents(`${url}/runs/${id}/events`, {
      enough: (seen) => {
        if (!killed && chunksOf(seen).length >= 3) {
          killed = true;
          first.child.kill('SIGKILL'); // its tokens so far were sent live, never committed
          void h?.startWorker({}, ['--concurrency', '1']);
        }
        return false;
      },
    });
    expect(killed).toBe(true);

    const reader = new PostgresStore(h.db);
    let journal: (string | number)[][];
    try {
      expect((await reader.getRun(id))?.status).toBe('succeeded');
      journal = (await reader.getEvents(id)).map((e) => [e.seq, e.type]);
    } finally {
      await reader.close();
    }
    const sequenced = all.filter((e) => e.id !== undefined) as (SseEvent & { id: number })[];
    // Ids go up one by one, except where the second execution starts: back to the journal's end.
    const rewinds: number[] = [];
    sequenced.forEach((e, i) => {
      const previous = sequenced[i - 1]?.id ?? 0;
      if (e.id === previous + 1) return;
      expect(e.id, `id ${e.id} after ${previous}`).toBeLessThanOrEqual(previous);
      expect(e.type).toBe('pipeline.execution.start');
      rewinds.push(i);
    });
    expect(rewinds).toHaveLength(1);
    // From there on, the stream is the journal's story exactly: each seq's last delivery is its event.
    const last = new Map(sequenced.map((e) => [e.id, e.type]));
    expect([...last.entries()].sort(([a], [b]) => a - b)).toEqual(journal);
    const after = sequenced.slice(rewinds[0]);
    expect(chunksOf(after).map((e) => e.payload.data.text)).toEqual(WORDS.map((w, i) => (i < 11 ? `${w} ` : w)));
    expect(chunksOf(sequenced.slice(0, rewinds[0])).length).toBeGreaterThanOrEqual(3);
  }, 90_000);
});
