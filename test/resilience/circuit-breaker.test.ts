import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CircuitOpenError } from '../../src/resilience/circuit-breaker.js';
import { isFailFast } from '../../src/resilience/fail-fast.js';
import { resolveGateOptions } from '../../src/resilience/gate-options.js';
import { ProviderGate } from '../../src/resilience/provider-gate.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { answer, fault, StubProvider } from './stub-provider.js';

const once = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, jitter: false };

function setup(behaviour: ConstructorParameters<typeof StubProvider>[0]) {
  const bus = new EventBus();
  const states: string[] = [];
  bus.on('pipeline.provider.circuit', (event) => states.push(event.state));
  const gate = new ProviderGate(
    'stub',
    resolveGateOptions('stub', { circuit_breaker: { failure_threshold: 5, recovery_timeout: '50ms' } }),
    bus,
  );
  const provider = new StubProvider(behaviour);
  const call = () =>
    gate.execute((signal) => provider.generate({} as never, signal), {
      signal: new AbortController().signal,
      retry: once,
    });
  return { gate, provider, call, states };
}

describe('circuit breaker', () => {
  it('opens after five consecutive provider faults and then fails fast without calling the provider', async () => {
    let healthy = false;
    const { gate, provider, call, states } = setup(async () => {
      if (healthy) return answer('back');
      throw fault('server', { status: 500 });
    });
    for (let i = 0; i < 4; i++) await expect(call()).rejects.toMatchObject({ kind: 'server' });
    expect(gate.circuitState).toBe('closed');
    // The fifth fault opens the circuit: reported as such, so the engine fails over at once.
    const fifth = await call().catch((error: unknown) => error);
    expect(fifth).toBeInstanceOf(CircuitOpenError);
    expect(gate.circuitState).toBe('open');
    expect(provider.calls).toBe(5);

    const fast = await call().catch((error: unknown) => error);
    expect(fast).toBeInstanceOf(CircuitOpenError);
    expect(isFailFast(fast)).toBe(true);
    expect((fast as Error).message).toContain('stub');
    expect(provider.calls).toBe(5);

    // After recovery_timeout one probe goes through; its success closes the circuit.
    healthy = true;
    await sleep(60);
    await expect(call()).resolves.toMatchObject({ text: 'back' });
    expect(gate.circuitState).toBe('closed');
    expect(provider.calls).toBe(6);
    expect(states).toEqual(['open', 'half_open', 'closed']);
  });

  it('a failed half-open probe opens the circuit again', async () => {
    const { gate, call, states } = setup(async () => {
      throw fault('timeout');
    });
    for (let i = 0; i < 5; i++) await call().catch(() => undefined);
    await sleep(60);
    await expect(call()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(gate.circuitState).toBe('open');
    expect(states).toEqual(['open', 'half_open', 'open']);
  });

  it('a probe answered with a non-fault (429) closes the circuit with its count reset: five new faults to open it again', async () => {
    let probed = false;
    const { gate, provider, call, states } = setup(async (n) => {
      if (n === 6) {
        probed = true;
        throw fault('rate_limited', { status: 429 });
      }
      throw fault('server', { status: 500 });
    });
    for (let i = 0; i < 5; i++) await call().catch(() => undefined);
    expect(gate.circuitState).toBe('open');
    await sleep(60);
    // A rate-limit storm is usual while a provider recovers: the probe is answered, with a 429.
    await expect(call()).rejects.toMatchObject({ kind: 'rate_limited' });
    expect(probed).toBe(true);
    expect(gate.circuitState).toBe('closed');
    expect(gate.breaker.consecutiveFailures).toBe(0);
    // Before, the count stayed at the threshold and this one fault opened the circuit again.
    for (let i = 0; i < 4; i++) await expect(call()).rejects.toMatchObject({ kind: 'server' });
    expect(gate.circuitState).toBe('closed');
    await expect(call()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(provider.calls).toBe(11);
    expect(states).toEqual(['open', 'half_open', 'closed', 'open']);
  });

  it('never counts user errors: 400s and rate limits leave it closed', async () => {
    let n = 0;
    const { gate, provider, call } = setup(async () => {
      n++;
      throw n % 2 ? fault('bad_request', { status: 400 }) : fault('rate_limited', { status: 429 });
    });
    for (let i = 0; i < 12; i++) await call().catch(() => undefined);
    expect(gate.circuitState).toBe('closed');
    expect(provider.calls).toBe(12);
  });

  it('a success in between resets the count of consecutive faults', async () => {
    const { gate, call } = setup(async (n) => {
      if (n === 4) return answer();
      throw fault('connection');
    });
    for (let i = 0; i < 8; i++) await call().catch(() => undefined);
    expect(gate.circuitState).toBe('closed');
  });

  it('stops retrying once the circuit is open', async () => {
    const { provider, gate } = setup(async () => {
      throw fault('overloaded', { status: 529 });
    });
    const error = await gate
      .execute((signal) => provider.generate({} as never, signal), {
        signal: new AbortController().signal,
        retry: { maxAttempts: 10, baseDelayMs: 1, maxDelayMs: 1, jitter: false },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(provider.calls).toBe(5);
  });
});
