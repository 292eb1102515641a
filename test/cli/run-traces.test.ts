// `elexirion run` (and `resume`) export the run's spans when OTEL_EXPORTER_OTLP_ENDPOINT names a
// collector, as serve and worker do — flushed before the command returns — and load nothing otherwise.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type OtlpCollector, otlpCollector } from '../fakes/otlp-collector.js';
import { runMain } from './run-main.js';

const servers: OtlpCollector[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

/** A collector, closed after the test. */
async function collector(): Promise<OtlpCollector> {
  const started = await otlpCollector();
  servers.push(started);
  return started;
}

describe('elexirion run: traces', () => {
  it('exports the run’s spans to $OTEL_EXPORTER_OTLP_ENDPOINT before it returns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-run-traces-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(file, 'name: run-traced\nsteps:\n  - { name: only, type: mock, prompt: hi }\n');
    const otlp = await collector();
    const result = await runMain(['run', file, '--mock', '--json', '--db', join(dir, 'j.db')], {
      env: { NO_COLOR: '1', OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url },
    });
    expect(result.code, result.stderr).toBe(0);
    const runId = (JSON.parse(result.stdout) as { run_id: string }).run_id;
    const exported = otlp.bodies.join('\n');
    expect(exported).toContain('pipeline run-traced');
    expect(exported).toContain('step only');
    expect(exported).toContain(runId);
    // The run's output is unchanged: no log line on stderr, the JSON alone on stdout.
    expect(result.stderr).toBe('');
  });
});
