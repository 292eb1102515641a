// A resumed chain link's duration is its run's, as `elexirion resume` and `runs show` report it:
// from the run's first start to its end, the time it lay stopped included (duration_ms is always
// finished_at − started_at). One run must not have two durations depending on who prints it.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chain, type LinkEvent, resumeChain } from '../../src/chain/chain.js';
import type { RunResult } from '../../src/engine/run-result.js';
import { createHarness, type Harness } from '../engine/batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const GAP_MS = 120;

const first = JSON.stringify({
  name: 'first',
  steps: [{ name: 'a', type: 'mock', prompt: 'a', response: 'done' }],
  outputs: { text: '{{ steps.a.output }}' },
});
// Fails its first attempt, not retried: the chain stops at link 2, a resume runs it to the end.
const flaky = JSON.stringify({
  name: 'flaky',
  inputs: { text: { type: 'string', required: true } },
  steps: [{ name: 'b', type: 'mock', prompt: 'b {{ text }}', fail_first: 1, retry: { max_attempts: 1 } }],
});

function spanOf(result: RunResult): number {
  return Date.parse(result.finished_at as string) - Date.parse(result.started_at);
}

describe('chain: a resumed link reports its duration as `elexirion resume` does', () => {
  it('from its run’s first start, the stop included, the same as the run’s own result', async () => {
    const files = [h.write('a.yaml', first), h.write('b.yaml', flaky)];
    const stopped = await chain(files, { engine: h.engine, mock: true });
    expect(stopped.failed_link).toBe(2);
    const linkRun = stopped.links[1]?.run_id as string;
    const before = await h.engine.result(linkRun);
    await sleep(GAP_MS); // the link lies stopped

    const ends: LinkEvent[] = [];
    const resumed = await resumeChain(stopped.chain_id, { engine: h.engine, onLink: (e) => ends.push(e) });
    expect(resumed.status).toBe('succeeded');
    const shown = ends.find((e) => e.phase === 'end' && e.link === 2)?.result as RunResult;
    expect(shown.run_id).toBe(linkRun);
    // Counted from the first start: at least the stop's length longer than the first attempt.
    expect(shown.started_at).toBe(before.started_at);
    expect(shown.duration_ms).toBe(spanOf(shown));
    expect(shown.duration_ms).toBeGreaterThanOrEqual((before.duration_ms ?? 0) + GAP_MS);
    // What `runs show LINK_RUN` prints for the same run.
    expect((await h.engine.result(linkRun)).duration_ms).toBe(shown.duration_ms);
  });

  it('as a run resumed alone (`elexirion resume`) counts it', async () => {
    const stopped = await h.run(h.write('b.yaml', flaky), { text: 'x' });
    expect(stopped.status).toBe('failed');
    await sleep(GAP_MS);
    const resumed = await (await h.engine.resume(stopped.run_id)).result;
    expect(resumed.status).toBe('succeeded');
    expect(resumed.started_at).toBe(stopped.started_at);
    expect(resumed.duration_ms).toBe(spanOf(resumed));
    expect(resumed.duration_ms).toBeGreaterThanOrEqual((stopped.duration_ms ?? 0) + GAP_MS);
  });
});
