// Where a stream resumes for an id naming its execution (routes/execution-marks.ts), on journals
// left by crashes: an execution's events are the journal's up to the next one's start; one whose
// start the journal does not have is void as a whole. And the ids a stream accepts (event-id.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { emptyTotals } from '../../src/journal/store.js';
import { parseEventId } from '../../src/server/routes/event-id.js';
import { agreedSeq, executionAt } from '../../src/server/routes/execution-marks.js';

const RUN = '01EXECUTIONMARKS0000000000';
let store: SqliteStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

/** A journal of executions: [start seq, its start's at, events journaled after the start]. */
async function journal(executions: [number, number, number][]): Promise<SqliteStore> {
  store = new SqliteStore(':memory:');
  await store.createRun({
    ...{ id: RUN, pipelineName: 'p', pipelineHash: 'h', pipeline: {}, inputs: {}, status: 'succeeded' },
    ...{ startedAt: 1, finishedAt: 2, totals: emptyTotals(), metadata: {} },
  });
  const events = executions.flatMap(([start, at, more]) => [
    { runId: RUN, seq: start, type: 'pipeline.execution.start', at, data: {} },
    ...Array.from({ length: more }, (_, i) => ({
      runId: RUN,
      seq: start + 1 + i,
      type: 'pipeline.step.chunk',
      at,
      data: {},
    })),
  ]);
  await store.appendEvents(events);
  return store;
}

type View = (s: SqliteStore) => Pick<SqliteStore, 'getEvents'> & Partial<Pick<SqliteStore, 'executionStarts'>>;
// Each case twice: by the journal's list of starts (Store.executionStarts), and by reading the events
// themselves, as for a store without it.
const VIEWS: [string, View][] = [
  ["by the journal's starts", (s) => s],
  ['by reading the events', (s) => ({ getEvents: (...args) => s.getEvents(...args) })],
];

describe.each(VIEWS)('%s', (_how, view) => {
  describe('agreedSeq', () => {
    it('an execution followed by another: up to the next start', async () => {
      // X: 1..10 journaled; it sent up to 15 live, crashed; Y started at 11.
      const s = await journal([
        [1, 100, 9],
        [11, 200, 9],
      ]);
      expect(await agreedSeq(view(s), RUN, { seq: 15, execution: { seq: 1, at: 100 } })).toBe(10);
      expect(await agreedSeq(view(s), RUN, { seq: 7, execution: { seq: 1, at: 100 } })).toBe(7);
      expect(await agreedSeq(view(s), RUN, { seq: 15, execution: { seq: 11, at: 200 } })).toBe(15);
    });

    it('two crashes in a row: up to the first later start, not the last', async () => {
      // X 1..5, Y 6..9 (crashed too), Z from 10; the client has X's events through 12.
      const s = await journal([
        [1, 100, 4],
        [6, 200, 3],
        [10, 300, 5],
      ]);
      expect(await agreedSeq(view(s), RUN, { seq: 12, execution: { seq: 1, at: 100 } })).toBe(5);
    });

    it('an execution the journal has no start of is void: from its start', async () => {
      // X started at 6 and crashed before its first commit; Y started at 6 as well, later.
      const s = await journal([
        [1, 100, 4],
        [6, 300, 5],
      ]);
      expect(await agreedSeq(view(s), RUN, { seq: 9, execution: { seq: 6, at: 200 } })).toBe(5);
      expect(await agreedSeq(view(s), RUN, { seq: 30, execution: { seq: 20, at: 200 } })).toBe(19);
    });

    it('the execution under way here: taken at its word; one started since cuts it', async () => {
      const s = await journal([[1, 100, 4]]);
      expect(await agreedSeq(view(s), RUN, { seq: 9, execution: { seq: 6, at: 200 } }, { seq: 6, at: 200 })).toBe(9);
      expect(await agreedSeq(view(s), RUN, { seq: 9, execution: { seq: 1, at: 100 } }, { seq: 6, at: 200 })).toBe(5);
    });

    it('a plain seq is taken at its word', async () => {
      const s = await journal([
        [1, 100, 4],
        [6, 200, 5],
      ]);
      expect(await agreedSeq(view(s), RUN, { seq: 8 })).toBe(8);
    });
  });

  describe('executionAt', () => {
    it('the last start at or before the seq, past a page of the journal', async () => {
      const s = await journal([
        [1, 100, 1500],
        [1502, 200, 10],
      ]);
      expect(await executionAt(view(s), RUN, 1501)).toEqual({ seq: 1, at: 100 });
      expect(await executionAt(view(s), RUN, 1502)).toEqual({ seq: 1502, at: 200 });
      expect(await executionAt(view(s), RUN, 1505)).toEqual({ seq: 1502, at: 200 });
      expect(await executionAt(view(s), RUN, 1505, { seq: 1513, at: 300 })).toEqual({ seq: 1502, at: 200 });
      expect(await executionAt(view(s), RUN, 1520, { seq: 1513, at: 300 })).toEqual({ seq: 1513, at: 300 });
    });
  });
});

describe("a journal's list of starts", () => {
  it('places an id without reading the events through', async () => {
    const s = await journal([
      [1, 100, 1500],
      [1502, 200, 10],
    ]);
    let reads = 0;
    const counted = {
      getEvents: (...args: Parameters<SqliteStore['getEvents']>) => {
        reads++;
        return s.getEvents(...args);
      },
      executionStarts: (runId: string) => s.executionStarts(runId),
    };
    expect(await executionAt(counted, RUN, 1505)).toEqual({ seq: 1502, at: 200 });
    expect(await agreedSeq(counted, RUN, { seq: 1600, execution: { seq: 1, at: 100 } })).toBe(1501);
    expect(reads).toBe(0);
  });
});

describe('parseEventId', () => {
  it('a seq, or SEQ@START-AT; nothing else', () => {
    expect(parseEventId('12')).toEqual({ seq: 12 });
    expect(parseEventId('12@3-1732096800000')).toEqual({ seq: 12, execution: { seq: 3, at: 1732096800000 } });
    for (const bad of ['12@', '12@3', '12@0-5', '12@13-5', '12@3-', '@3-5', '12@3-5-6', ' 12@3-5', '12@3-1e3'])
      expect(() => parseEventId(bad), bad).toThrow(/Last-Event-ID must be an event seq/);
  });
});
