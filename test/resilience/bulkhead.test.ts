import { describe, expect, it } from 'vitest';
import { BulkheadRejectedError } from '../../src/resilience/bulkhead.js';
import { isFailFast } from '../../src/resilience/fail-fast.js';
import { resolveGateOptions } from '../../src/resilience/gate-options.js';
import { ProviderGate } from '../../src/resilience/provider-gate.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { answer, StubProvider, waitOrAbort } from './stub-provider.js';

describe('bulkhead', () => {
  it('never lets more than max_concurrency calls in flight, and queues the rest', async () => {
    const bus = new EventBus();
    const queued: number[] = [];
    bus.on('pipeline.provider.queued', (event) => queued.push(event.queued));
    const gate = new ProviderGate('stub', resolveGateOptions('stub', { max_concurrency: 3 }), bus);
    const provider = new StubProvider(async (_n, signal) => {
      await waitOrAbort(20, signal);
      return answer();
    });
    const calls = Array.from({ length: 10 }, () =>
      gate.execute((signal) => provider.generate({} as never, signal), { signal: new AbortController().signal }),
    );
    await new Promise((resolve) => setImmediate(resolve)); // the calls reach the bulkhead
    expect(gate.bulkhead.inFlight).toBe(3);
    expect(gate.bulkhead.queued).toBe(7);
    await Promise.all(calls);
    expect(provider.calls).toBe(10);
    expect(provider.peakInFlight).toBe(3);
    expect(queued).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(gate.bulkhead.inFlight).toBe(0);
  });

  it('rejects beyond the queue with an error naming the provider and its limits', async () => {
    const gate = new ProviderGate('stub', resolveGateOptions('stub', { max_concurrency: 1, max_queue: 1 }));
    const provider = new StubProvider(async (_n, signal) => {
      await waitOrAbort(20, signal);
      return answer();
    });
    const run = () =>
      gate.execute((signal) => provider.generate({} as never, signal), { signal: new AbortController().signal });
    const [a, b, c] = [run(), run(), run().catch((e: unknown) => e)];
    const rejected = await c;
    expect(rejected).toBeInstanceOf(BulkheadRejectedError);
    expect(isFailFast(rejected)).toBe(true);
    expect((rejected as Error).message).toMatch(/stub: .*1 in flight \(max_concurrency\) and 1 queued \(max_queue\)/);
    await Promise.all([a, b]);
    expect(provider.calls).toBe(2);
  });

  it('a rejected call is not retried', async () => {
    const gate = new ProviderGate('stub', resolveGateOptions('stub', { max_concurrency: 1, max_queue: 0 }));
    const provider = new StubProvider(async (_n, signal) => {
      await waitOrAbort(20, signal);
      return answer();
    });
    const signal = new AbortController().signal;
    const first = gate.execute((s) => provider.generate({} as never, s), { signal });
    await expect(gate.execute((s) => provider.generate({} as never, s), { signal })).rejects.toBeInstanceOf(
      BulkheadRejectedError,
    );
    await first;
    expect(provider.calls).toBe(1);
  });

  it('a queued call of a cancelled run leaves the queue at once, without reaching the provider', async () => {
    const gate = new ProviderGate('stub', resolveGateOptions('stub', { max_concurrency: 1 }));
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const provider = new StubProvider(async () => {
      await held;
      return answer();
    });
    const first = gate.execute((s) => provider.generate({} as never, s), { signal: new AbortController().signal });
    const controller = new AbortController();
    const second = gate.execute((s) => provider.generate({} as never, s), { signal: controller.signal });
    controller.abort();
    // Rejected while the slot is still held: the cancelled call does not wait for its turn.
    await expect(second).rejects.toMatchObject({ kind: 'aborted' });
    release();
    await first;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(provider.calls).toBe(1);
  });
});
