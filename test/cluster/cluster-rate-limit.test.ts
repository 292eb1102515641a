// A provider's rate_limit holds across three real worker processes together: the calls that reach
// the fake provider stay within requests_per_minute in every window. The window is shortened to
// four seconds (ELEXIRION_RATE_WINDOW_MS) so that the test can watch it slide. Needs `npm run build`.
//
// The limiter admits calls by when they reserve their place (on Redis's clock); the fake sees them
// when its process gets to read them. On two loaded cores (this test beside another test file and
// three workers) that can be more than a second later, and calls of two windows then seem to arrive
// in one: the window is long and the margin wide enough that only a real breach of the shared
// limit (three workers letting four each through: all eight at once) fails.
import { afterEach, describe, expect, it } from 'vitest';
import { AnthropicFake } from '../fakes/index.js';
import { batchPipeline, type ClusterHarness, clusterHarness, runCli } from './harness.js';

let h: ClusterHarness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const WINDOW_MS = 4_000;
/** Arrival delay tolerated (reservation → the fake reading the request). */
const MARGIN_MS = 1_500;
const RPM = 4;
const ITEMS = 8;

describe('cluster-wide rate limits', () => {
  it('keeps requests_per_minute for every worker together', async () => {
    h = await clusterHarness();
    const fake = new AnthropicFake();
    await fake.start();
    try {
      const env = {
        ANTHROPIC_API_KEY: 'test-key',
        ANTHROPIC_BASE_URL: fake.baseUrl,
        ELEXIRION_RATE_WINDOW_MS: String(WINDOW_MS),
        ELEXIRION_CLUSTER_CHUNK: '2', // four chunks: the workers share them
      };
      for (let i = 0; i < 3; i++) await h.startWorker(env);
      const yaml = batchPipeline(ITEMS, {
        maxParallel: 2,
        step: '      type: claude\n      model: claude-sonnet-4-5\n      prompt: "item {{ index }}"',
      }).replace('steps:', `providers:\n  anthropic: { rate_limit: { requests_per_minute: ${RPM} } }\nsteps:`);
      const t0 = Date.now();
      const run = await runCli(['run', h.write('rate.yaml', yaml), '--cluster', '--json'], { ...h.env, ...env }).done;
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).outputs.count).toBe(ITEMS);
      // As the fake saw them arrive (a sampler of our own, delayed on a loaded machine, bunched them).
      const arrivals = fake.requests.map((r) => r.at);
      expect(arrivals).toHaveLength(ITEMS);
      // Each worker alone would let four through per window (all eight at once); together, four.
      for (const start of arrivals) {
        const inWindow = arrivals.filter((t) => t >= start && t < start + WINDOW_MS - MARGIN_MS).length;
        expect(inWindow).toBeLessThanOrEqual(RPM);
      }
      expect(Date.now() - t0).toBeGreaterThanOrEqual((ITEMS / RPM - 1) * WINDOW_MS);
    } finally {
      await fake.stop();
    }
  }, 60_000);
});
