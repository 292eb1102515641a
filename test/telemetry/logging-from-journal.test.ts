// A step taken from the journal on a resume did not run: its log line must not read as one that did
// ("step succeeded: x" at info, told apart only by a field), nor fill the info log of a resumed run.
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { EventBus } from '../../src/telemetry/event-bus.js';
import type { EventMap } from '../../src/telemetry/events.js';
import { attachLogging, createLogger } from '../../src/telemetry/logger.js';

function logged(level: 'info' | 'debug', stops: EventMap['pipeline.step.stop'][]): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  const bus = new EventBus();
  attachLogging(bus, createLogger({ destination, level, env: {} }));
  for (const stop of stops) bus.emit('pipeline.step.stop', stop);
  return lines.map(({ level, msg, step }) => ({ level, msg, step }));
}

const stop = (step: string, fromJournal: boolean, status: 'succeeded' | 'failed' = 'succeeded') => ({
  runId: 'r',
  step,
  type: 'llm',
  status,
  durationMs: 5,
  usage: { inputTokens: 1, outputTokens: 1 },
  costUsd: 0,
  attempts: 1,
  fromJournal,
});

it('logs a step taken from the journal at debug, saying so; a step that ran as before', () => {
  // `old` failed in an earlier attempt and was continued (on_error: continue): not a failure now.
  const stops = [stop('old', true, 'failed'), stop('kept', true), stop('ran', false)];
  expect(logged('debug', stops)).toEqual([
    { level: 'debug', msg: 'step failed (from the journal): old', step: 'old' },
    { level: 'debug', msg: 'step succeeded (from the journal): kept', step: 'kept' },
    { level: 'info', msg: 'step succeeded: ran', step: 'ran' },
  ]);
  expect(logged('info', stops)).toEqual([{ level: 'info', msg: 'step succeeded: ran', step: 'ran' }]);
});
