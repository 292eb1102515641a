// A call's token estimate reads every character of its prompt (whole files, for a code review): the
// gate asks for it only when the provider has a tokens-per-minute limit to charge it against.
import { describe, expect, it, vi } from 'vitest';
import { resolveGateOptions } from '../../src/resilience/gate-options.js';
import { ProviderGate } from '../../src/resilience/provider-gate.js';

const signal = () => new AbortController().signal;

describe('the gate and a call token estimate', () => {
  it('is not asked for one without a rate limit', async () => {
    const gate = new ProviderGate('stub', resolveGateOptions('stub', {}));
    const estimateTokens = vi.fn(() => 100);
    await expect(gate.execute(async () => 'answer', { signal: signal(), estimateTokens })).resolves.toBe('answer');
    expect(estimateTokens).not.toHaveBeenCalled();
  });

  it('charges it against tokens_per_minute when the provider has that limit', async () => {
    const gate = new ProviderGate('stub', resolveGateOptions('stub', { rate_limit: { tokens_per_minute: 1000 } }));
    const estimateTokens = vi.fn(() => 100);
    await expect(gate.execute(async () => 'answer', { signal: signal(), estimateTokens })).resolves.toBe('answer');
    expect(estimateTokens).toHaveBeenCalledTimes(1);
  });
});
