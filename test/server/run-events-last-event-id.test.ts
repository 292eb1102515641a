// A Last-Event-ID the journal has no event after — however large, up to the largest safe integer —
// replays nothing: the stream follows the run (sending nothing at or below that id) and ends with
// it. The journal is not asked for events after such a seq at all: PostgreSQL's `events.seq` is a
// 32-bit INTEGER, and a query with 2^31 failed there, after the stream had answered 200, with a bare
// stack trace in the log. A journal that fails in the middle of a stream is logged as the API logs
// its 5xx (redacted, through the logger), never left to escape as an unhandled error.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { EventRecord } from '../../src/journal/store.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { type Harness, readSse, startHarness, TOKEN, waitForStatus } from './harness.js';

const INT4_MAX = 2 ** 31 - 1;

/** A SQLite journal that refuses a seq PostgreSQL's INTEGER cannot hold, as PostgreSQL does. */
function int4Store(): { store: SqliteStore; asked: number[] } {
  const store = new SqliteStore(':memory:');
  const asked: number[] = [];
  const getEvents = store.getEvents.bind(store);
  store.getEvents = async (runId: string, afterSeq = 0, limit?: number): Promise<EventRecord[]> => {
    asked.push(afterSeq);
    if (afterSeq > INT4_MAX) throw new Error(`value "${afterSeq}" is out of range for type integer`);
    return getEvents(runId, afterSeq, limit);
  };
  return { store, asked };
}

let h: Harness | undefined;
let sqlite: SqliteStore | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.close();
  await sqlite?.close();
  h = undefined;
  sqlite = undefined;
});

describe('GET /runs/:id/events with a Last-Event-ID past the journal’s end', () => {
  for (const id of [String(2 ** 31), String(Number.MAX_SAFE_INTEGER)]) {
    it(`Last-Event-ID ${id}: a finished run replays nothing and the stream ends, the journal never asked past it`, async () => {
      const { store, asked } = int4Store();
      sqlite = store;
      const consoleError = vi.spyOn(console, 'error');
      h = await startHarness({ store });
      const { run_id } = (await (
        await h.call('/runs', { json: { file: 'pipelines/slow.yaml', mock: true } })
      ).json()) as {
        run_id: string;
      };
      await waitForStatus(h, run_id, 'succeeded');
      const asHeader = { headers: { 'last-event-id': id } };
      for (const [path, init] of [
        [`/runs/${run_id}/events`, asHeader],
        [`/runs/${run_id}/events?after=${id}`, {}],
      ] as const) {
        const response = await h.call(path, init);
        expect(response.status).toBe(200);
        expect(await readSse(response)).toEqual([]);
      }
      expect(asked.filter((seq) => seq > INT4_MAX)).toEqual([]);
      expect(consoleError).not.toHaveBeenCalled();
    });
  }

  it('a running run: the stream stays open, sends nothing at or below the id, and ends with the run', async () => {
    const { store, asked } = int4Store();
    sqlite = store;
    h = await startHarness({ store });
    const harness = h;
    const { run_id } = (await (
      await h.call('/runs', { json: { file: 'pipelines/slow.yaml', mock: true } })
    ).json()) as {
      run_id: string;
    };
    const response = await h.call(`/runs/${run_id}/events`, { headers: { 'last-event-id': String(2 ** 31) } });
    expect(response.status).toBe(200);
    let endedWhile = '';
    const events = await readSse(response).finally(async () => {
      endedWhile = (await store.getRun(run_id))?.status ?? '';
    });
    expect(events).toEqual([]);
    // It ended because the run did (its execution.stop, at or below the id, is not sent), not at once.
    expect(endedWhile).toBe('succeeded');
    await waitForStatus(harness, run_id, 'succeeded');
    expect(asked.filter((seq) => seq > INT4_MAX)).toEqual([]);
  });

  it('refuses an id that is not a safe integer with 400', async () => {
    h = await startHarness();
    const { run_id } = (await (
      await h.call('/runs', { json: { file: 'pipelines/slow.yaml', mock: true } })
    ).json()) as {
      run_id: string;
    };
    for (const bad of [String(Number.MAX_SAFE_INTEGER + 1), '1'.repeat(30), '-1', '+3', '3.0']) {
      const res = await h.call(`/runs/${run_id}/events`, { headers: { 'last-event-id': bad } });
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/Last-Event-ID must be an event seq/);
    }
    await waitForStatus(h, run_id, 'succeeded');
  });
});

describe('a journal that fails during an event stream', () => {
  it('is logged through the logger (redacted), not printed by the stream as an unhandled error', async () => {
    const secret = 'sk-live-secret-0123456789';
    const store = new SqliteStore(':memory:');
    sqlite = store;
    const lines: string[] = [];
    const env = { ELEXIRION_TOKEN: TOKEN, OPENAI_API_KEY: secret };
    const logger = createLogger({ destination: { write: (line: string) => lines.push(line) }, env, level: 'error' });
    const consoleError = vi.spyOn(console, 'error');
    h = await startHarness({ store, env, logger });
    const { run_id } = (await (
      await h.call('/runs', { json: { file: 'pipelines/slow.yaml', mock: true } })
    ).json()) as {
      run_id: string;
    };
    await waitForStatus(h, run_id, 'succeeded');
    store.getEvents = async () => {
      throw new Error(`connection to the journal lost (password ${secret})`);
    };
    const response = await h.call(`/runs/${run_id}/events`);
    expect(response.status).toBe(200); // the stream had begun: it ends
    expect(await readSse(response)).toEqual([]);
    await sleep(50);

    expect(consoleError).not.toHaveBeenCalled();
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'elexirion serve: event stream failed',
        path: `/runs/${run_id}/events`,
        runId: run_id,
      }),
    ]);
    expect(JSON.stringify(logged)).toContain('connection to the journal lost');
    expect(lines.join('\n')).not.toContain(secret);
  });
});
