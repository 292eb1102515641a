// A step cut short by its run's stop — cancelled by a user, interrupted for a shutdown — did not do
// its work: its span ends failed, saying why, and names the run's status. Left UNSET (as before) it
// read as a success: a finished step's span is UNSET too. The run's span keeps UNSET: a stop asked
// for is the run's outcome, told by elexirion.status.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { expect, it } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { attachTracing, CUT_SHORT, createTracing } from '../../src/telemetry/tracing.js';
import { newEngine } from './run-pipeline.js';

const PIPELINE = `name: slow
steps:
  - { name: quick, type: mock, prompt: a }
  - { name: wait, type: mock, prompt: b, latency: 30s }
`;

it.each(['cancelled', 'interrupted'] as const)(
  'ends as errors the spans of the steps a run left unfinished (%s)',
  async (how) => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
    const engine = newEngine();
    attachTracing(engine.bus, tracing.tracer);
    const handle = await engine.start(loadPipelineFromString(PIPELINE, '/tmp/slow.yaml'));
    // Stopped once the slow step's call is under way.
    await new Promise<void>((started) => {
      const off = engine.bus.on('pipeline.provider.request', (e) => {
        if (e.step !== 'wait') return;
        off();
        started();
      });
    });
    handle.stop(how);
    expect((await handle.result).status).toBe(how);

    const spans = Object.fromEntries(exporter.getFinishedSpans().map((s) => [s.name, s]));
    expect(spans['step wait']?.status).toEqual({ code: 2, message: `${CUT_SHORT} (run ${how})` });
    expect(spans['step wait']?.attributes['elexirion.status']).toBe(how);
    // The step that finished, and the run, as before.
    expect(spans['step quick']?.status.code).toBe(0);
    expect(spans['step quick']?.attributes['elexirion.status']).toBe('succeeded');
    expect(spans['pipeline slow']?.status.code).toBe(0);
    expect(spans['pipeline slow']?.attributes['elexirion.status']).toBe(how);
    await tracing.shutdown();
    await engine.drain();
  },
);
