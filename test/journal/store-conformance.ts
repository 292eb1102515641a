// The Store contract, written against the interface only. Every implementation (SQLite now,
// PostgreSQL later) runs this same suite: `describeStoreConformance('sqlite', () => new SqliteStore(...))`.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimOf, RunTakenOverError } from '../../src/journal/run-fence.js';
import type { CallBill, ItemRecord, RunRecord, RunTotals, StepRecord, Store } from '../../src/journal/store.js';
import { emptyTotals, FORGOTTEN_STEPS, MAX_CALL_BILLS } from '../../src/journal/store.js';

let counter = 0;
const uniqueId = (prefix: string) => `${prefix}-${process.pid}-${Date.now()}-${++counter}`;

export function sampleRun(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: uniqueId('run'),
    pipelineName: 'sample',
    pipelineFile: '/tmp/sample.yaml',
    pipelineHash: 'abc123',
    pipeline: { name: 'sample', steps: [{ name: 'a', type: 'mock' }] },
    inputs: { topic: 'durability', n: 3 },
    status: 'running',
    startedAt: 1_700_000_000_000,
    totals: emptyTotals(),
    metadata: { mock: true },
    ...overrides,
  };
}

export function sampleStep(runId: string, key: string, overrides: Partial<StepRecord> = {}): StepRecord {
  return {
    runId,
    key,
    name: key,
    type: 'mock',
    status: 'succeeded',
    output: { text: `output of ${key}`, nested: [1, 2, { ok: true }] },
    usage: { inputTokens: 10, outputTokens: 20 },
    costUsd: 0.0012,
    durationMs: 12.5,
    attempts: 1,
    startedAt: 1_700_000_000_100,
    finishedAt: 1_700_000_000_200,
    ...overrides,
  };
}

function sampleItem(runId: string, stepKey: string, index: number, overrides: Partial<ItemRecord> = {}): ItemRecord {
  return {
    runId,
    stepKey,
    index,
    status: 'succeeded',
    output: `item ${index}`,
    usage: { inputTokens: 1, outputTokens: 2 },
    costUsd: null,
    attempts: 1,
    durationMs: 3,
    calls: 1,
    ...overrides,
  };
}

export function describeStoreConformance(name: string, create: () => Promise<Store> | Store): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await create();
      await store.migrate();
    });
    afterEach(async () => {
      await store.close();
    });

    it('migrate is idempotent', async () => {
      await store.migrate();
      await store.migrate();
      const run = sampleRun();
      await store.createRun(run);
      expect(await store.getRun(run.id)).toBeDefined();
    });

    it('round-trips a run with every field', async () => {
      const run = sampleRun({
        error: 'boom',
        failedStep: 'a',
        outputs: { x: [1, 'two'] },
        finishedAt: 1_700_000_001_000,
      });
      await store.createRun(run);
      expect(await store.getRun(run.id)).toEqual(run);
    });

    it('returns undefined for an unknown run', async () => {
      expect(await store.getRun('no-such-run')).toBeUndefined();
    });

    it('updates only the fields of a patch', async () => {
      const run = sampleRun();
      await store.createRun(run);
      await store.updateRun(run.id, { status: 'succeeded', outputs: { answer: 42 }, finishedAt: 1_700_000_000_900 });
      const got = await store.getRun(run.id);
      expect(got?.status).toBe('succeeded');
      expect(got?.outputs).toEqual({ answer: 42 });
      expect(got?.finishedAt).toBe(1_700_000_000_900);
      expect(got?.inputs).toEqual(run.inputs);
      expect(got?.pipelineHash).toBe(run.pipelineHash);
    });

    it('claims a run only from the state it was read in (compare-and-set)', async () => {
      const run = sampleRun({ status: 'interrupted', error: 'stopped', metadata: { pid: 1, resumes: 0 } });
      await store.createRun(run);
      const read = (await store.getRun(run.id)) as typeof run;
      const patch = { status: 'running' as const, error: undefined, metadata: { pid: 2, resumes: 1 } };
      expect(await store.claimRun(run.id, read, patch)).toBe(true);
      expect(await store.claimRun(run.id, read, { ...patch, metadata: { pid: 3, resumes: 1 } })).toBe(false);
      const now = await store.getRun(run.id);
      expect(now?.status).toBe('running');
      expect(now?.metadata).toEqual({ pid: 2, resumes: 1 });
      expect(now?.error).toBeUndefined();
    });

    it('takes every write of a run whose metadata holds a NUL or a lone surrogate, fenced or not, and claims it', async () => {
      // Free-form metadata (a form's text, a chain's): PostgreSQL's json operators fail on the whole
      // document when any string in it holds either, and fenced writes must not read it there.
      for (const odd of ['from a form\u0000', 'half a pair \ud800', '\\u0000 is text here']) {
        const run = sampleRun({ metadata: { note: odd, nested: { resumes: 7, odd }, resumes: 2 } });
        await store.createRun(run);
        const fence = { runId: run.id, claim: claimOf(run.metadata) };
        const event = (seq: number) => ({ runId: run.id, seq, type: 't', at: seq, data: { odd } });
        await store.commitStep(sampleStep(run.id, 'a'), [event(1)], fence);
        await store.commitStep(sampleStep(run.id, 'b'), [], fence);
        await store.commitItems([sampleItem(run.id, 'c', 0)], fence);
        await store.appendEvents([event(2)], fence);
        await store.updateRun(run.id, { status: 'interrupted', finishedAt: 5 }, fence);
        expect((await store.getSteps(run.id)).map((s) => s.key)).toEqual(['a', 'b']);
        expect(await store.getItems(run.id, 'c')).toHaveLength(1);
        expect((await store.getEvents(run.id)).map((e) => e.seq)).toEqual([1, 2]);
        const read = (await store.getRun(run.id)) as RunRecord;
        expect(read.metadata).toEqual(run.metadata);
        expect(read.status).toBe('interrupted');
        // Claimed by another execution: its writes commit, and (where fences are checked) the first one's no more.
        const metadata = { ...read.metadata, resumes: 3 };
        expect(await store.claimRun(run.id, read, { status: 'running', metadata })).toBe(true);
        const claimed = { runId: run.id, claim: claimOf(metadata) };
        await store.commitStep(sampleStep(run.id, 'd'), [event(3)], claimed);
        await store.updateRun(run.id, { status: 'succeeded' }, claimed);
        expect((await store.getRun(run.id))?.status).toBe('succeeded');
        if (store.checksFences) {
          await expect(store.commitStep(sampleStep(run.id, 'e'), [event(4)], fence)).rejects.toBeInstanceOf(
            RunTakenOverError,
          );
          await expect(store.commitItems([sampleItem(run.id, 'c', 1)], fence)).rejects.toBeInstanceOf(
            RunTakenOverError,
          );
          await expect(store.appendEvents([event(4)], fence)).rejects.toBeInstanceOf(RunTakenOverError);
          await expect(store.updateRun(run.id, { status: 'failed' }, fence)).rejects.toBeInstanceOf(RunTakenOverError);
          expect((await store.getSteps(run.id)).map((s) => s.key)).toEqual(['a', 'b', 'd']);
          expect((await store.getEvents(run.id)).map((e) => e.seq)).toEqual([1, 2, 3]);
          expect((await store.getRun(run.id))?.status).toBe('succeeded');
        }
      }
    });

    it('lists runs newest first, filtered by status, limited', async () => {
      const a = sampleRun({ startedAt: 1, status: 'failed' });
      const b = sampleRun({ startedAt: 3, status: 'succeeded' });
      const c = sampleRun({ startedAt: 2, status: 'failed' });
      for (const r of [a, b, c]) await store.createRun(r);
      const ids = (await store.listRuns({ limit: 1000 }))
        .map((r) => r.id)
        .filter((id) => [a.id, b.id, c.id].includes(id));
      expect(ids).toEqual([b.id, c.id, a.id]);
      const failed = (await store.listRuns({ status: 'failed', limit: 1000 })).map((r) => r.id);
      expect(failed).toContain(a.id);
      expect(failed).not.toContain(b.id);
      expect(await store.listRuns({ limit: 2 })).toHaveLength(2);
    });

    it('commits a step with its events atomically and reads it back', async () => {
      const run = sampleRun();
      await store.createRun(run);
      const step = sampleStep(run.id, 'a', { details: { provider: 'mock', cached: false } });
      await store.commitStep(step, [{ runId: run.id, seq: 1, type: 'pipeline.step.stop', at: 5, data: { step: 'a' } }]);
      expect(await store.getSteps(run.id)).toEqual([step]);
      expect(await store.getEvents(run.id)).toEqual([
        { runId: run.id, seq: 1, type: 'pipeline.step.stop', at: 5, data: { step: 'a' } },
      ]);
    });

    it('keeps an error text holding a NUL character (PostgreSQL text refuses it: stored as U+FFFD)', async () => {
      const error = 'provider said: bad\u0000byte';
      const run = sampleRun();
      await store.createRun(run);
      await store.commitStep(sampleStep(run.id, 'a', { status: 'failed', error, output: 'out\u0000put' }));
      await store.commitItems([
        {
          runId: run.id,
          stepKey: 'b',
          index: 0,
          status: 'failed',
          error,
          usage: { inputTokens: 0, outputTokens: 0 },
          costUsd: 0,
          attempts: 1,
          durationMs: 1,
          calls: 1,
        },
      ]);
      await store.updateRun(run.id, { status: 'failed', error });
      const readable = (text: string | undefined) => text?.replace('\uFFFD', '\u0000');
      const [step] = await store.getSteps(run.id);
      expect(readable(step?.error)).toBe(error);
      expect(step?.output).toBe('out\u0000put'); // JSON keeps it escaped, on both
      expect(readable((await store.getItems(run.id, 'b'))[0]?.error)).toBe(error);
      expect(readable((await store.getRun(run.id))?.error)).toBe(error);
    });

    it('gives back event data exactly, whether or not it names its run (the engine’s always do)', async () => {
      const run = sampleRun();
      await store.createRun(run);
      const events = [
        { runId: run.id, seq: 1, type: 'pipeline.step.start', at: 4, data: { runId: run.id, step: 'a', n: [1] } },
        { runId: run.id, seq: 2, type: 'x.custom', at: 5, data: { step: 'a' } },
        { runId: run.id, seq: 3, type: 'x.other', at: 6, data: { runId: 'someone-else', step: 'a' } },
      ];
      await store.commitStep(sampleStep(run.id, 'a'), events);
      await store.appendEvents([{ ...(events[0] as (typeof events)[0]), seq: 4 }]);
      const read = await store.getEvents(run.id);
      expect(read).toEqual([...events, { ...events[0], seq: 4 }]);
      // Key order too: the live stream serializes the data as the engine emitted it.
      expect(Object.keys(read[0]?.data ?? {})).toEqual(['runId', 'step', 'n']);
    });

    it('keeps a null cost distinct from a zero cost', async () => {
      const run = sampleRun();
      await store.createRun(run);
      await store.commitStep(sampleStep(run.id, 'unpriced', { costUsd: null }));
      await store.commitStep(sampleStep(run.id, 'free', { costUsd: 0 }));
      const byKey = Object.fromEntries((await store.getSteps(run.id)).map((s) => [s.key, s.costUsd]));
      expect(byKey).toEqual({ unpriced: null, free: 0 });
    });

    it('stores a cost that is no number (NaN, Infinity) as unknown: null, counted unpriced', async () => {
      const run = sampleRun();
      await store.createRun(run);
      await store.commitStep(sampleStep(run.id, 'nan', { costUsd: Number.NaN }));
      await store.commitStep(sampleStep(run.id, 'inf', { costUsd: Number.POSITIVE_INFINITY }));
      expect((await store.getSteps(run.id)).map((s) => s.costUsd)).toEqual([null, null]);
      await store.commitItems([
        sampleItem(run.id, 'b', 0, { costUsd: Number.NaN }),
        sampleItem(run.id, 'b', 1, { costUsd: 0.5 }),
      ]);
      expect((await store.getItems(run.id, 'b')).map((i) => i.costUsd)).toEqual([null, 0.5]);
      expect(await store.itemTotals(run.id)).toEqual([expect.objectContaining({ costUsd: 0.5, unpricedCalls: 1 })]);
      const call = {
        key: uniqueId('nan'),
        provider: 'mock',
        model: 'm',
        request: {},
        response: {},
        usage: { inputTokens: 1, outputTokens: 1 },
        costUsd: Number.NaN,
        createdAt: 1,
        expiresAt: null,
      };
      await store.putCall(call);
      expect((await store.getCall(call.key, 2))?.costUsd).toBeNull();
    });

    it('re-committing a step replaces it (a re-run after resume --force)', async () => {
      const run = sampleRun();
      await store.createRun(run);
      await store.commitStep(sampleStep(run.id, 'a', { status: 'failed', error: 'x', output: undefined }));
      await store.commitStep(sampleStep(run.id, 'a', { attempts: 2 }));
      const steps = await store.getSteps(run.id);
      expect(steps).toHaveLength(1);
      expect(steps[0]?.status).toBe('succeeded');
      expect(steps[0]?.error).toBeUndefined();
      expect(steps[0]?.attempts).toBe(2);
    });

    it('returns steps in commit order', async () => {
      const run = sampleRun();
      await store.createRun(run);
      for (const [i, key] of ['z', 'a', 'm'].entries()) {
        await store.commitStep(sampleStep(run.id, key, { finishedAt: 1000 + i }));
      }
      expect((await store.getSteps(run.id)).map((s) => s.key)).toEqual(['z', 'a', 'm']);
    });

    it('deletes steps and their items', async () => {
      const run = sampleRun();
      await store.createRun(run);
      await store.commitStep(sampleStep(run.id, 'a'));
      await store.commitStep(sampleStep(run.id, 'b'));
      await store.commitItems([sampleItem(run.id, 'b', 0)]);
      await store.deleteSteps(run.id, ['b']);
      expect((await store.getSteps(run.id)).map((s) => s.key)).toEqual(['a']);
      expect(await store.getItems(run.id, 'b')).toEqual([]);
    });

    it('deleting a step forgets the steps and items nested under it, and items without a step row', async () => {
      const run = sampleRun();
      await store.createRun(run);
      await store.commitStep(sampleStep(run.id, 'child'));
      await store.commitStep(sampleStep(run.id, 'child/inner'));
      await store.commitStep(sampleStep(run.id, 'children')); // a prefix of the name, not a child
      await store.commitItems([sampleItem(run.id, 'child/batch', 0), sampleItem(run.id, 'killed', 0)]);
      await store.deleteSteps(run.id, ['child', 'killed']);
      expect((await store.getSteps(run.id)).map((s) => s.key)).toEqual(['children']);
      expect(await store.getItems(run.id, 'child/batch')).toEqual([]);
      expect(await store.getItems(run.id, 'killed')).toEqual([]);
    });

    it('sums what the items of each batch cost, an unknown cost counted apart', async () => {
      const run = sampleRun();
      await store.createRun(run);
      await store.commitItems([
        sampleItem(run.id, 'a', 0, { usage: { inputTokens: 10, outputTokens: 5 }, costUsd: 0.25, calls: 3 }),
        sampleItem(run.id, 'a', 1, { usage: { inputTokens: 1, outputTokens: 2 }, costUsd: null, status: 'failed' }),
        // Journaled by an Elexirion that did not keep an item's calls.
        sampleItem(run.id, 'a', 2, { usage: { inputTokens: 0, outputTokens: 0 }, costUsd: 0, calls: undefined }),
        sampleItem(run.id, 'b', 0, { usage: { inputTokens: 7, outputTokens: 0 }, costUsd: 0.5, calls: 2 }),
      ]);
      const totals = (await store.itemTotals(run.id)).sort((x, y) => x.stepKey.localeCompare(y.stepKey));
      expect(totals).toEqual([
        {
          stepKey: 'a',
          items: 3,
          inputTokens: 11,
          outputTokens: 7,
          costUsd: 0.25,
          unpricedCalls: 1,
          calls: 4,
          itemsWithoutCalls: 1,
        },
        {
          stepKey: 'b',
          items: 1,
          inputTokens: 7,
          outputTokens: 0,
          costUsd: 0.5,
          unpricedCalls: 0,
          calls: 2,
          itemsWithoutCalls: 0,
        },
      ]);
      expect(await store.itemTotals('no-such-run')).toEqual([]);
    });

    it('sums token counts that are not whole numbers', async () => {
      const run = sampleRun();
      await store.createRun(run);
      await store.commitItems([
        sampleItem(run.id, 'a', 0, { usage: { inputTokens: 1.5, outputTokens: 0.25 } }),
        sampleItem(run.id, 'a', 1, { usage: { inputTokens: 1, outputTokens: 2 } }),
      ]);
      expect(await store.itemTotals(run.id)).toEqual([
        expect.objectContaining({ stepKey: 'a', items: 2, inputTokens: 2.5, outputTokens: 2.25 }),
      ]);
    });

    it('keeps the calls an item made, replaced with the item, and none for an item journaled without', async () => {
      const run = sampleRun();
      await store.createRun(run);
      await store.commitItems([
        sampleItem(run.id, 's', 0, { status: 'failed', error: 'bad', output: undefined, calls: 2 }),
        sampleItem(run.id, 's', 1, { calls: 0 }), // a cache hit: no call at all
        sampleItem(run.id, 's', 2, { calls: undefined }),
      ]);
      expect((await store.getItems(run.id, 's')).map((i) => i.calls)).toEqual([2, 0, undefined]);
      expect('calls' in ((await store.getItems(run.id, 's', { from: 2, to: 3 }))[0] ?? {})).toBe(false);
      // Run again on a resume: the new row (which carries the failed attempt's calls) replaces it.
      await store.commitItems([sampleItem(run.id, 's', 0, { calls: 5 })]);
      expect(await store.getItems(run.id, 's', { from: 0, to: 1 })).toEqual([sampleItem(run.id, 's', 0, { calls: 5 })]);
      expect((await store.itemTotals(run.id))[0]).toMatchObject({ stepKey: 's', calls: 5, itemsWithoutCalls: 1 });
    });

    it('keeps the calls of unknown price of an item whose cost is known, and counts them in the totals', async () => {
      const run = sampleRun();
      await store.createRun(run);
      await store.commitItems([
        // A priced call and an unpriced fallback: the cost is the known part.
        sampleItem(run.id, 's', 0, { costUsd: 0.25, calls: 2, unpricedCalls: 1 }),
        sampleItem(run.id, 's', 1, { costUsd: null, calls: 3, unpricedCalls: 3 }),
        // Journaled before items counted them: an unknown cost counts one, a known one none.
        sampleItem(run.id, 's', 2, { costUsd: null, calls: 2 }),
        sampleItem(run.id, 's', 3, { costUsd: 0.5 }),
      ]);
      expect((await store.getItems(run.id, 's')).map((i) => i.unpricedCalls)).toEqual([1, 3, undefined, undefined]);
      expect('unpricedCalls' in ((await store.getItems(run.id, 's', { from: 2, to: 3 }))[0] ?? {})).toBe(false);
      expect((await store.itemTotals(run.id))[0]).toMatchObject({ stepKey: 's', costUsd: 0.75, unpricedCalls: 5 });
      // Replaced on a resume: the new row's count is the item's.
      await store.commitItems([sampleItem(run.id, 's', 0, { costUsd: 0.25, calls: 4, unpricedCalls: 2 })]);
      expect((await store.getItems(run.id, 's', { from: 0, to: 1 }))[0]?.unpricedCalls).toBe(2);
      expect((await store.itemTotals(run.id))[0]).toMatchObject({ unpricedCalls: 6 });
    });

    it('keeps what forgotten steps spent with their run, in the item totals, when it deletes them', async () => {
      const run = sampleRun();
      const other = sampleRun();
      await store.createRun(run);
      await store.createRun(other);
      await store.commitStep(sampleStep(run.id, 'a'));
      await store.commitStep(sampleStep(run.id, 'b'));
      await store.commitItems([sampleItem(run.id, 'b', 0, { calls: 2 })]);
      await store.deleteSteps(run.id, ['a']); // nothing said about what it spent: nothing kept
      expect(await store.itemTotals(run.id)).toEqual([expect.objectContaining({ stepKey: 'b', calls: 2 })]);

      const spent: RunTotals = {
        inputTokens: 30,
        outputTokens: 40,
        costUsd: 1.25,
        unpricedCalls: 1,
        calls: 4,
        cacheHits: 1,
        costSavedUsd: 0.5,
        retries: 2,
      };
      const forgotten = {
        stepKey: FORGOTTEN_STEPS,
        items: 0,
        inputTokens: 30,
        outputTokens: 40,
        costUsd: 1.25,
        unpricedCalls: 1,
        calls: 4,
        itemsWithoutCalls: 0,
        cacheHits: 1,
        retries: 2,
        costSavedUsd: 0.5,
      };
      await store.deleteSteps(run.id, ['b'], spent);
      expect(await store.getSteps(run.id)).toEqual([]);
      expect(await store.itemTotals(run.id)).toEqual([forgotten]);
      // A later --force says what every forgotten step spent, the earlier ones included.
      await store.deleteSteps(run.id, [], { ...spent, calls: 9 });
      expect(await store.itemTotals(run.id)).toEqual([{ ...forgotten, calls: 9 }]);
      expect(await store.itemTotals(other.id)).toEqual([]);
    });

    it('knows the last event sequence number of a run', async () => {
      const run = sampleRun();
      await store.createRun(run);
      expect(await store.lastEventSeq(run.id)).toBe(0);
      await store.appendEvents([3, 1, 2].map((seq) => ({ runId: run.id, seq, type: 't', at: seq, data: {} })));
      expect(await store.lastEventSeq(run.id)).toBe(3);
    });

    it('commits items in batches, reads them in index order, by range, and counts them', async () => {
      const run = sampleRun();
      await store.createRun(run);
      await store.commitItems([sampleItem(run.id, 's', 2), sampleItem(run.id, 's', 0)]);
      await store.commitItems([sampleItem(run.id, 's', 1, { status: 'failed', error: 'bad', output: undefined })]);
      await store.commitItems([sampleItem(run.id, 'other', 0)]);
      const items = await store.getItems(run.id, 's');
      expect(items.map((i) => i.index)).toEqual([0, 1, 2]);
      expect(items[1]).toEqual(sampleItem(run.id, 's', 1, { status: 'failed', error: 'bad', output: undefined }));
      expect((await store.getItems(run.id, 's', { from: 1, to: 3 })).map((i) => i.index)).toEqual([1, 2]);
      expect(await store.countItems(run.id, 's')).toEqual({ succeeded: 2, failed: 1, stopped: 0 });
      expect(await store.countItems(run.id, 'none')).toEqual({ succeeded: 0, failed: 0, stopped: 0 });
      // An item stopped by its batch after paid calls is journaled failed, but is no failure of its own.
      await store.commitItems([
        sampleItem(run.id, 's', 3, { status: 'failed', error: 'stopped: the run was interrupted', output: undefined }),
      ]);
      expect(await store.countItems(run.id, 's')).toEqual({ succeeded: 2, failed: 1, stopped: 1 });
    });

    it('pages events after a sequence number', async () => {
      const run = sampleRun();
      await store.createRun(run);
      await store.appendEvents([1, 2, 3, 4].map((seq) => ({ runId: run.id, seq, type: 't', at: seq, data: { seq } })));
      expect((await store.getEvents(run.id, 2)).map((e) => e.seq)).toEqual([3, 4]);
      expect((await store.getEvents(run.id, 0, 2)).map((e) => e.seq)).toEqual([1, 2]);
    });

    it('pages events after any sequence number a reader may give, past 2^31 too', async () => {
      const run = sampleRun();
      await store.createRun(run);
      await store.appendEvents([1, 2].map((seq) => ({ runId: run.id, seq, type: 't', at: seq, data: {} })));
      expect(await store.getEvents(run.id, 2 ** 31 - 1)).toEqual([]);
      expect(await store.getEvents(run.id, 2 ** 31)).toEqual([]);
      expect(await store.getEvents(run.id, Number.MAX_SAFE_INTEGER)).toEqual([]);
      expect((await store.getEvents(run.id, 0, 2 ** 31)).map((e) => e.seq)).toEqual([1, 2]);
    });

    it('pages events written by many commits, from the middle of one, and of several runs at once', async () => {
      const run = sampleRun();
      const other = sampleRun();
      await store.createRun(run);
      await store.createRun(other);
      const event = (runId: string, seq: number) => ({ runId, seq, type: `t${seq}`, at: 1000 + seq, data: { seq } });
      await store.appendEvents([1, 2, 3].map((seq) => event(run.id, seq)));
      await store.commitStep(
        sampleStep(run.id, 'a'),
        [4, 5].map((seq) => event(run.id, seq)),
      );
      await store.appendEvents([event(other.id, 1), event(run.id, 6), event(run.id, 7), event(other.id, 2)]);
      await store.appendEvents([8, 9, 10].map((seq) => event(run.id, seq)));
      const seqs = async (after: number, limit?: number) =>
        (await store.getEvents(run.id, after, limit)).map((e) => e.seq);
      expect(await seqs(0)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await seqs(4)).toEqual([5, 6, 7, 8, 9, 10]);
      expect(await seqs(5, 3)).toEqual([6, 7, 8]);
      expect(await seqs(2, 2)).toEqual([3, 4]);
      expect(await seqs(10)).toEqual([]);
      expect(await store.getEvents(run.id, 6, 1)).toEqual([event(run.id, 7)]);
      expect((await store.getEvents(other.id)).map((e) => e.seq)).toEqual([1, 2]);
      expect(await store.lastEventSeq(run.id)).toBe(10);
      expect(await store.lastEventSeq(other.id)).toBe(2);
    });

    it('keeps the events of a step committed again, or deleted for a re-run', async () => {
      const run = sampleRun();
      await store.createRun(run);
      const event = (seq: number) => ({ runId: run.id, seq, type: `t${seq}`, at: seq, data: { seq } });
      await store.commitStep(sampleStep(run.id, 'a', { status: 'failed', error: 'boom' }), [event(1), event(2)]);
      await store.appendEvents([event(3)]);
      await store.commitStep(sampleStep(run.id, 'a'), [event(4), event(5)]); // resumed: the step again
      await store.commitStep(sampleStep(run.id, 'b'), [event(6)]);
      await store.deleteSteps(run.id, ['b']); // resume --force from b
      await store.commitStep(sampleStep(run.id, 'b'), [event(7)]);
      expect((await store.getEvents(run.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(await store.getEvents(run.id, 4, 2)).toEqual([event(5), event(6)]);
      expect(await store.lastEventSeq(run.id)).toBe(7);
      expect((await store.getSteps(run.id)).map((s) => [s.key, s.status])).toEqual([
        ['a', 'succeeded'],
        ['b', 'succeeded'],
      ]);
    });

    it('gives the start of each execution of a run, wherever its event was journaled', async () => {
      const run = sampleRun();
      const other = sampleRun({ id: `${run.id}X` });
      await store.createRun(run);
      await store.createRun(other);
      const start = (runId: string, seq: number, at: number) => ({
        runId,
        seq,
        type: 'pipeline.execution.start',
        at,
        data: { pipeline: 'p', resumed: seq > 1, steps: 2 },
      });
      const event = (seq: number) => ({ runId: run.id, seq, type: 'pipeline.step.start', at: seq, data: { seq } });
      // With a step's commit, alone (a run whose first step had not committed), and with a step
      // committed again (its earlier events moved aside, kept).
      await store.commitStep(sampleStep(run.id, 'a', { status: 'failed', error: 'boom' }), [
        start(run.id, 1, 100),
        event(2),
      ]);
      await store.appendEvents([start(run.id, 3, 200)]);
      await store.commitStep(sampleStep(run.id, 'a'), [start(run.id, 4, 300), event(5)]);
      await store.appendEvents([start(other.id, 1, 999)]);
      expect(await store.executionStarts?.(run.id)).toEqual([
        { seq: 1, at: 100 },
        { seq: 3, at: 200 },
        { seq: 4, at: 300 },
      ]);
      expect(await store.executionStarts?.(`${run.id}-none`)).toEqual([]);
    });

    it('stores calls under their key and honours expiry', async () => {
      const call = {
        key: uniqueId('k'),
        provider: 'anthropic',
        model: 'claude-sonnet-4-5',
        request: { messages: [{ role: 'user', content: 'hi' }] },
        response: { text: 'hello', toolCalls: [] },
        usage: { inputTokens: 3, outputTokens: 1 },
        costUsd: 0.00002,
        createdAt: 1000,
        expiresAt: 2000,
      };
      await store.putCall(call);
      expect(await store.getCall(call.key, 1500)).toEqual(call);
      expect(await store.getCall(call.key, 2000)).toBeUndefined();
      await store.putCall({ ...call, key: `${call.key}-forever`, expiresAt: null });
      expect((await store.getCall(`${call.key}-forever`, 9e15))?.response).toEqual(call.response);
    });

    it('writes many calls in one batch', async () => {
      const base = uniqueId('batch');
      const calls = [0, 1, 2].map((i) => ({
        key: `${base}-${i}`,
        provider: 'mock',
        model: 'm',
        request: { i },
        response: { text: String(i) },
        usage: { inputTokens: i, outputTokens: i },
        costUsd: i === 1 ? null : 0,
        createdAt: 10,
        expiresAt: null,
      }));
      await store.putCalls(calls);
      for (const call of calls) expect(await store.getCall(call.key, 20)).toEqual(call);
    });

    it("keeps who paid for a call's answer, and its replacement's (paidBy)", async () => {
      const call = {
        key: uniqueId('paid'),
        provider: 'openai',
        model: 'gpt-4o',
        request: { n: 1 },
        response: { text: 'x' },
        usage: { inputTokens: 1, outputTokens: 1 },
        costUsd: 0.01,
        createdAt: 10,
        expiresAt: null,
        paidBy: 'run-1\nsummarize\nexec-1',
      };
      await store.putCalls([call, { ...call, key: `${call.key}-unpaid`, paidBy: undefined }]);
      expect(await store.getCall(call.key, 20)).toEqual(call);
      expect((await store.getCall(`${call.key}-unpaid`, 20))?.paidBy).toBeUndefined();
      await store.putCall({ ...call, paidBy: 'run-2\nsummarize\nexec-9' });
      expect((await store.getCall(call.key, 20))?.paidBy).toBe('run-2\nsummarize\nexec-9');
    });

    it('keeps the bills of calls whose answers no record keeps (putBill), whatever answer comes and goes', async () => {
      const bill = (n: number, costUsd: number | null = n / 100): CallBill => ({
        paidBy: `run-1\nsummarize\nexec-${n}`,
        usage: { inputTokens: n, outputTokens: 1 },
        costUsd,
      });
      // A key without a record: the bill's own, which answers nothing (expired at its creation) but
      // is read back for its bills, however late.
      const rejected = {
        key: uniqueId('bill'),
        provider: 'openai',
        model: 'gpt-4o',
        request: { n: 1 },
        response: { text: 'I cannot', refusal: 'I cannot' },
        usage: { inputTokens: 1, outputTokens: 1 },
        costUsd: 0.01,
        createdAt: 10,
        expiresAt: 10,
        paidBy: bill(1).paidBy,
      };
      await store.putBill(rejected, bill(1));
      expect(await store.getCall(rejected.key, 9e15)).toEqual({ ...rejected, bills: [bill(1)] });
      // An answer put later replaces the answer, and keeps the bills; a bill put later keeps the answer.
      const answer = {
        ...rejected,
        response: { text: 'fine' },
        createdAt: 20,
        expiresAt: null,
        paidBy: bill(2).paidBy,
      };
      await store.putCall(answer);
      expect(await store.getCall(rejected.key, 30)).toEqual({ ...answer, bills: [bill(1)] });
      await store.putBill({ ...rejected, createdAt: 40, expiresAt: 40 }, bill(3, null));
      expect(await store.getCall(rejected.key, 50)).toEqual({ ...answer, bills: [bill(1), bill(3, null)] });
      await store.putCalls([{ ...answer, costUsd: 0.5 }]);
      expect((await store.getCall(rejected.key, 50))?.bills).toEqual([bill(1), bill(3, null)]);

      // The newest MAX_CALL_BILLS, oldest first.
      for (let n = 4; n < 4 + MAX_CALL_BILLS; n++) await store.putBill(rejected, bill(n));
      const kept = (await store.getCall(rejected.key, 50))?.bills;
      expect(kept).toEqual(Array.from({ length: MAX_CALL_BILLS }, (_, i) => bill(4 + i)));

      // A record without bills still expires; one with only an expired answer and bills is found.
      const other = { ...rejected, key: uniqueId('bill'), expiresAt: 15 };
      await store.putCall(other);
      expect(await store.getCall(other.key, 20)).toBeUndefined();
      await store.putBill({ ...other, createdAt: 99, expiresAt: 99 }, bill(7));
      expect(await store.getCall(other.key, 20)).toEqual({ ...other, bills: [bill(7)] });
    });
  });
}
