// A call whose run is cancelled while it waits in the gate — queued in the bulkhead, or behind a
// half-open probe — leaves at once, and leaves the gate as if it had never come: the freed slot goes
// to the next live call, its queue place is free again, and a stopped probe proves nothing.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BulkheadRejectedError } from '../../src/resilience/bulkhead.js';
import { resolveGateOptions } from '../../src/resilience/gate-options.js';
import { ProviderGate } from '../../src/resilience/provider-gate.js';
import { answer, fault, StubProvider, waitOrAbort } from './stub-provider.js';

const once = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, jitter: false };

/** A promise and the function that settles it: a provider call held until the test lets it answer. */
function held(): { wait: Promise<void>; release: () => void } {
  let release: () => void = () => {};
  const wait = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { wait, release };
}

describe('the bulkhead, after a cancelled queued call', () => {
  function setup(maxQueue = 10) {
    const gate = new ProviderGate('stub', resolveGateOptions('stub', { max_concurrency: 1, max_queue: maxQueue }));
    const first = held();
    let n = 0;
    const provider = new StubProvider(async () => {
      if (++n === 1) await first.wait;
      return answer();
    });
    const call = (signal: AbortSignal) =>
      gate.execute((s) => provider.generate({} as never, s), { signal, retry: once });
    return { gate, provider, call, first };
  }

  it('gives the freed slot to the live call queued behind it', async () => {
    const { gate, provider, call, first } = setup();
    const inFlight = call(new AbortController().signal);
    const cancelledRun = new AbortController();
    const abandoned = call(cancelledRun.signal).catch((error: unknown) => error);
    const live = call(new AbortController().signal);
    cancelledRun.abort(new Error('run cancelled'));
    expect(await abandoned).toMatchObject({ kind: 'aborted' });
    expect(gate.bulkhead.queued).toBe(1);
    first.release();
    await inFlight;
    // Before: the cancelled call stayed at the head of cockatiel's queue, failed there, and the
    // queue stopped — the live call waited for some other call to finish.
    await expect(live).resolves.toMatchObject({ text: 'ok' });
    expect(provider.calls).toBe(2);
    expect(gate.bulkhead.inFlight).toBe(0);
  });

  it('frees the max_queue places of cancelled calls', async () => {
    const { gate, call, first } = setup(2);
    const inFlight = call(new AbortController().signal);
    const cancelledRun = new AbortController();
    const a = call(cancelledRun.signal).catch(() => undefined);
    const b = call(cancelledRun.signal).catch(() => undefined);
    cancelledRun.abort(new Error('run cancelled'));
    await Promise.all([a, b]);
    expect(gate.bulkhead.queued).toBe(0);
    const next = call(new AbortController().signal).catch((error: unknown) => error);
    first.release();
    await inFlight;
    expect(await next).not.toBeInstanceOf(BulkheadRejectedError);
  });
});

describe('a half-open circuit', () => {
  function setup(probe: (signal: AbortSignal) => Promise<never | ReturnType<typeof answer>>) {
    const gate = new ProviderGate(
      'stub',
      resolveGateOptions('stub', { circuit_breaker: { failure_threshold: 1, recovery_timeout: '20ms' } }),
    );
    let n = 0;
    const provider = new StubProvider(async (_call, signal) => {
      if (++n === 1) throw fault('server', { status: 500 }); // opens the circuit
      return probe(signal);
    });
    const call = (signal: AbortSignal) =>
      gate.execute((s) => provider.generate({} as never, s), { signal, retry: once });
    return { gate, call };
  }

  it('lets a call waiting behind the probe leave at once when its run is cancelled', async () => {
    const slow = held();
    const { gate, call } = setup(async () => {
      await slow.wait;
      return answer('probe');
    });
    await call(new AbortController().signal).catch(() => undefined);
    await sleep(30);
    const probe = call(new AbortController().signal);
    await sleep(5);
    expect(gate.circuitState).toBe('half_open');
    const stop = new AbortController();
    const waiting = call(stop.signal);
    stop.abort(new Error('run cancelled'));
    // Rejected while the probe still holds the provider: it did not wait for the probe's outcome.
    await expect(waiting).rejects.toMatchObject({ message: expect.stringMatching(/cancelled/) });
    slow.release();
    await probe;
    expect(gate.circuitState).toBe('closed');
  });

  it('stays open when its probe is cancelled before the provider answers', async () => {
    const { gate, call } = setup(async (signal) => {
      await waitOrAbort(10_000, signal);
      throw fault('server', { status: 500 });
    });
    await call(new AbortController().signal).catch(() => undefined);
    expect(gate.circuitState).toBe('open');
    await sleep(30);
    const stop = new AbortController();
    const probe = call(stop.signal);
    await sleep(5);
    expect(gate.circuitState).toBe('half_open');
    stop.abort(new Error('run cancelled'));
    await expect(probe).rejects.toBeDefined();
    // The provider never answered: nothing says it recovered (cockatiel closed the circuit).
    expect(gate.circuitState).toBe('open');
  });
});
