// A long-lived server runs pipelines without end, each run with an id of its own and step names of
// the pipeline's choosing: neither may mint series (Prometheus keeps every series it ever scraped).
import { describe, expect, it } from 'vitest';
import { attachMetrics } from '../../src/telemetry/metrics.js';
import { newEngine, runYaml } from './run-pipeline.js';

const pipeline = (i: number) => `name: run-${i}
steps:
  - { name: step_${i}_a, type: mock, prompt: "a ${i}" }
  - { name: step_${i}_b, type: mock, prompt: "b ${i}", fail_first: 1, retry: { max_attempts: 2, base_delay: 1ms } }
`;

/** The series of the pipeline_* metrics: every sample line's name and labels. */
const series = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('pipeline_'))
    .map((line) => line.slice(0, line.lastIndexOf(' ')));

describe('series over many runs', () => {
  it('stay the same set whatever the run ids, pipeline names and step names', async () => {
    const engine = newEngine();
    const metrics = attachMetrics(engine, { defaultMetrics: false });
    await runYaml(engine, pipeline(0), { mock: true });
    const first = series(await metrics.text());
    for (let i = 1; i < 40; i++) await runYaml(engine, pipeline(i), { mock: true });
    const text = await metrics.text();
    expect(series(text)).toEqual(first);
    expect(text).not.toMatch(/step_\d|run-\d|[0-9A-Z]{26}/);
    expect(text).toMatch(/^pipeline_runs_total\{status="succeeded"\} 40$/m);
    metrics.detach();
  });
});
