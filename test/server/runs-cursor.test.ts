// GET /runs pages past the first 1,000: each page's `next` (and its Link header) asks for the runs
// after its last one, in the same order (newest first; by id within one millisecond) — none twice,
// none skipped, whatever is started meanwhile.
// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are asserted on, not typed
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { emptyTotals, type RunStatus, type Store } from '../../src/journal/store.js';
import { dropSchema, TEST_POSTGRES_URL, uniqueSchema } from '../journal/postgres-harness.js';
import { type Harness, startHarness } from './harness.js';

let h: Harness;
const T = 1_700_000_000_000;

async function journalRun(id: string, startedAt: number, status: RunStatus = 'succeeded') {
  await h.service.engine.store.createRun({
    id,
    pipelineName: 'p',
    pipelineHash: 'h',
    pipeline: { name: 'p', steps: [{ name: 'a', type: 'mock', prompt: 'hi' }] },
    inputs: {},
    status,
    startedAt,
    finishedAt: startedAt + 1,
    totals: emptyTotals(),
    metadata: {},
  });
}

/** Every page from `first`, following `next`: the ids of each. */
async function pages(first: string): Promise<string[][]> {
  const all: string[][] = [];
  let path: string | undefined = first;
  while (path !== undefined) {
    const res = await h.call(path);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    all.push(body.runs.map((r: any) => r.run_id));
    const link = res.headers.get('link');
    if (body.next === undefined) {
      expect(link).toBeNull();
      path = undefined;
    } else {
      // The Link header is the next page's URL, the query kept and the cursor added.
      const url = new URL(/^<(.+)>; rel="next"$/.exec(link ?? '')?.[1] ?? '', 'http://x');
      expect(url.searchParams.get('cursor')).toBe(body.next);
      path = `${url.pathname}${url.search}`;
    }
    if (all.length > 20) throw new Error('no end to the pages');
  }
  return all;
}

const schema = uniqueSchema('elexirion_runs_cursor');
// Each journal pages by its own query (started_at, then id): both are checked.
describe.each([
  ['SQLite', (): Store => new SqliteStore(':memory:')],
  ['PostgreSQL', (): Store => new PostgresStore(TEST_POSTGRES_URL, { schema })],
])('GET /runs paged with `next` (%s)', (name, journal) => {
  let store: Store;
  beforeAll(async () => {
    store = journal();
    h = await startHarness({ store });
    // Three runs started in one millisecond: their ids order them.
    await journalRun('01RUN5', T + 5);
    await journalRun('01RUN4C', T + 4, 'failed');
    await journalRun('01RUN4B', T + 4);
    await journalRun('01RUN4A', T + 4, 'failed');
    await journalRun('01RUN3', T + 3);
    await journalRun('01RUN2', T + 2, 'failed');
    await journalRun('01RUN1', T + 1);
  });
  afterAll(async () => {
    await h.close();
    await store.close();
    if (name === 'PostgreSQL') await dropSchema(schema);
  });

  it('lists every run once, newest first, page after page', async () => {
    expect(await pages('/runs?limit=2')).toEqual([
      ['01RUN5', '01RUN4C'],
      ['01RUN4B', '01RUN4A'],
      ['01RUN3', '01RUN2'],
      ['01RUN1'],
    ]);
    expect(await pages('/runs?limit=3')).toEqual([
      ['01RUN5', '01RUN4C', '01RUN4B'],
      ['01RUN4A', '01RUN3', '01RUN2'],
      ['01RUN1'],
    ]);
  });

  it('keeps the status filter from page to page', async () => {
    expect(await pages('/runs?limit=1&status=failed')).toEqual([['01RUN4C'], ['01RUN4A'], ['01RUN2']]);
  });

  it('gives no `next` when the page holds the last run', async () => {
    const res = await h.call('/runs?limit=7');
    expect(((await res.json()) as any).next).toBeUndefined();
    expect(res.headers.get('link')).toBeNull();
  });

  it('is not shifted by a run started after the first page', async () => {
    const first = (await (await h.call('/runs?limit=2')).json()) as any;
    await journalRun('01RUN9', T + 9);
    const second = (await (await h.call(`/runs?limit=2&cursor=${first.next}`)).json()) as any;
    expect(second.runs.map((r: any) => r.run_id)).toEqual(['01RUN4B', '01RUN4A']);
  });

  it.each(['', 'abc', 'MTIzLjAxUlVOMQ==', 'eDEyMy4wMVJVTjE', Buffer.from('12.3.4').toString('base64url')])(
    'refuses cursor=%j with 400',
    async (cursor) => {
      const res = await h.call(`/runs?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error).toBe('`cursor` is not one this server gave');
    },
  );
});
