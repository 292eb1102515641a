// The worker's side of live events, on the machine's Redis: each bus event of a run goes to the
// run's stream with its journal seq (or, not journaled, the seq it follows), the execution it
// belongs to, no secret, and an expiry.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { EventRelay, type RelayedEvent, runEventsKey } from '../../src/cluster/event-relay.js';
import { relayedExecution } from '../../src/cluster/live-events.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { createRedactor } from '../../src/telemetry/redact.js';
import { REDIS_URL } from './harness.js';

const prefix = `elxtest-relay-${process.pid}-${Date.now().toString(36)}`;
let redis: Redis | undefined;
afterEach(async () => {
  const keys = (await redis?.keys(`${prefix}:*`)) ?? [];
  if (keys.length > 0) await redis?.del(...keys);
  redis?.disconnect();
  redis = undefined;
});

async function relayed(r: Redis, runId: string): Promise<RelayedEvent[]> {
  const entries = await r.xrange(runEventsKey(prefix, runId), '-', '+');
  return entries.map(([, fields]) => JSON.parse(fields[1] as string) as RelayedEvent);
}

describe('EventRelay', () => {
  it('relays each event of a run with its journal seq and execution, redacted, on a stream that expires', async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    await redis.ping();
    const bus = new EventBus();
    // The engine's part: the seq of the event being emitted (none for a step taken from the journal).
    let seq = 0;
    const engine = {
      eventSeq: (event: { type: string; data: unknown }) =>
        (event.data as { fromJournal?: boolean }).fromJournal ? undefined : ++seq,
      lastEventSeq: () => seq,
    };
    const key = 'sk-ant-api03-abcdefghijklmnop';
    const detach = new EventRelay(redis, prefix, engine as never, createRedactor({})).attach(bus);

    bus.emit('pipeline.execution.start', { runId: 'r1', pipeline: 'p', resumed: true, steps: 2 });
    bus.emit('pipeline.step.stop', {
      runId: 'r1',
      step: 'a',
      type: 'mock',
      status: 'succeeded',
      durationMs: 0,
      usage: { inputTokens: 0, outputTokens: 0 },
      costUsd: 0,
      attempts: 1,
      fromJournal: true,
    });
    bus.emit('pipeline.step.chunk', { runId: 'r1', step: 'b', text: `the key is ${key}` });
    bus.emit('pipeline.provider.circuit', { provider: 'anthropic', state: 'open' }); // no run: not relayed
    // The run starts again (a crash): a new execution, from the seq it starts at.
    bus.emit('pipeline.execution.start', { runId: 'r1', pipeline: 'p', resumed: true, steps: 2 });
    detach();
    bus.emit('pipeline.step.chunk', { runId: 'r1', step: 'b', text: 'after detach' });
    await redis.ping(); // the relay's commands went first on the same connection

    const events = await relayed(redis, 'r1');
    expect(events.map((e) => [e.type, e.seq, e.after])).toEqual([
      ['pipeline.execution.start', 1, undefined],
      ['pipeline.step.stop', undefined, 1],
      ['pipeline.step.chunk', 2, undefined],
      ['pipeline.execution.start', 3, undefined],
    ]);
    const [first, , chunk, again] = events as [RelayedEvent, RelayedEvent, RelayedEvent, RelayedEvent];
    expect(chunk.attempt).toBe(first.attempt);
    expect(chunk.base).toBe(1);
    expect(again.attempt).not.toBe(first.attempt);
    expect(again.base).toBe(3);
    // Each names its execution as the event stream's ids do: its start's seq (base) and `at`.
    expect(chunk.startAt).toBe(first.at);
    expect(again.startAt).toBe(again.at);
    expect(await relayedExecution(redis, prefix, 'r1')).toEqual({ seq: 3, at: again.at });
    expect(chunk.data.text).toBe('the key is [REDACTED]');
    const raw = JSON.stringify(await redis.xrange(runEventsKey(prefix, 'r1'), '-', '+'));
    expect(raw).not.toContain(key);
    const ttl = await redis.pttl(runEventsKey(prefix, 'r1'));
    expect(ttl).toBeGreaterThan(0);
  });
});
