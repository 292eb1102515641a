// The journal's fence on a run's writes (PostgreSQL, the cluster's journal). An execution of a run
// commits its steps, events and end only while the run holds the claim the execution was started
// under; once another process has claimed the run (a worker that took it over while this one was
// frozen), this execution's next commit is refused, and it stops without journaling anything more —
// neither that step, nor a failed status after restarts, nor its execution.stop. Before, the stale
// execution went on committing beside the new owner's.
import { describe, expect, it } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { RunTakenOverError } from '../../src/journal/run-fence.js';
import { inProcessCluster, until } from './in-process.js';

const cluster = inProcessCluster();

const PIPELINE = `
name: fenced
steps:
  - name: first
    type: mock
    prompt: "first"
  - name: second
    type: mock
    prompt: "second"
    latency: 400ms
  - name: third
    type: mock
    prompt: "third"
`;

describe('a run claimed by another process mid-execution', () => {
  it('has its stale execution stop without journaling anything more', async () => {
    const h = await cluster.harness();
    const store = new PostgresStore(h.db);
    cluster.cleanups.push(() => store.close());
    const engine = new Engine({ store, env: {}, restartIntensity: { backoffMs: 1 } });
    const handle = await engine.start(loadPipelineFromString(PIPELINE, `${h.dir}/p.yaml`), { mock: true });
    const runId = handle.runId;
    await until('the first step journaled', async () => (await store.getSteps(runId)).length === 1);
    // Another process takes the run over while `second` is under way: its claim counts one resume more.
    const before = await store.getRun(runId);
    if (!before) throw new Error('no run');
    const claimed = await store.claimRun(
      runId,
      { status: before.status, metadata: before.metadata },
      { metadata: { ...before.metadata, pid: 1, host: 'elsewhere', resumes: 1 } },
    );
    expect(claimed).toBe(true);
    await handle.result;
    expect(engine.isActive(runId)).toBe(false);
    const after = await store.getRun(runId);
    expect(after?.status).toBe('running'); // the new owner's to end, not failed by the stale execution
    expect(after?.error).toBeUndefined();
    expect((await store.getSteps(runId)).map((s) => s.key)).toEqual(['first']);
    const types = (await store.getEvents(runId)).map((e) => e.type);
    expect(types).not.toContain('pipeline.execution.stop');
    expect(types.filter((t) => t === 'pipeline.step.stop')).toHaveLength(1);
    // The fence itself: a write under the old claim is refused, one under the new claim commits.
    await expect(store.updateRun(runId, { status: 'failed' }, { runId, claim: 0 })).rejects.toBeInstanceOf(
      RunTakenOverError,
    );
    await store.updateRun(runId, { status: 'succeeded' }, { runId, claim: 1 });
    expect((await store.getRun(runId))?.status).toBe('succeeded');
  }, 20_000);
});
