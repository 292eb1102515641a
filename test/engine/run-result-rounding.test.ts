// Every cost a run's result shows is rounded to the micro-dollar: one run has one cost, whichever
// command or endpoint prints it — the step's `details.cost_saved_usd` (a sum of cache hits' prices)
// included, which used to leave as 0.0034999999999999996.
import { describe, expect, it } from 'vitest';
import { buildRunResult } from '../../src/engine/run-result.js';
import type { StepRecord } from '../../src/journal/store.js';
import { sampleRun } from '../journal/store-conformance.js';

describe('a run result', () => {
  it("rounds a step's cost and the cost its cache hits saved to the micro-dollar", () => {
    const step: StepRecord = {
      runId: 'r',
      key: 'a',
      name: 'a',
      type: 'claude',
      status: 'succeeded',
      output: 'x',
      usage: { inputTokens: 1, outputTokens: 1 },
      costUsd: 0.1 + 0.2,
      durationMs: 1,
      attempts: 1,
      startedAt: 0,
      finishedAt: 1,
      details: { calls: 2, cache_hits: 2, cost_saved_usd: 0.0014 + 0.0021, provider: 'anthropic' },
    };
    const [shown] = buildRunResult(sampleRun({ id: 'r' }), [step]).steps;
    expect(shown?.cost_usd).toBe(0.3);
    expect(shown?.details).toEqual({ calls: 2, cache_hits: 2, cost_saved_usd: 0.0035, provider: 'anthropic' });
    expect(step.details?.cost_saved_usd).not.toBe(0.0035); // the journal's record is left as it is
  });
});
