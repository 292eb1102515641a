// What SessionMeter counts as the model calls of a session that ended without a result (a timeout,
// a crash, its max_tokens): the step's bill, its `details.unpriced_calls` and `num_turns`.
import type { SDKAssistantMessage } from '@anthropic-ai/claude-agent-sdk';
import { describe, expect, it } from 'vitest';
import { priceCall } from '../../src/pricing/price-call.js';
import { SessionMeter } from '../../src/providers/claude-code/meter.js';
import type { Usage } from '../../src/providers/provider.js';

const message = (id: string, model: string, usage: Record<string, unknown>, parent: string | null = null) =>
  ({
    type: 'assistant',
    message: { id, model, content: [{ type: 'text', text: '…' }], usage },
    parent_tool_use_id: parent,
    session_id: 's1',
  }) as unknown as SDKAssistantMessage;

const price = (model: string) => (model === 'claude-sonnet-4-5' ? 0.006 : null);

describe('SessionMeter', () => {
  it("does not count Claude Code's own messages (model <synthetic>, an API error's text) as calls", () => {
    const meter = new SessionMeter(price);
    meter.add(message('m1', 'claude-sonnet-4-5', { input_tokens: 1000, output_tokens: 200 }));
    // What the real `claude` streams when a call failed: no call was made, nothing was paid.
    meter.add(message('3f0c…', '<synthetic>', { input_tokens: 0, output_tokens: 0 }));

    const spent = meter.spent();
    expect(spent).toMatchObject({ costUsd: 0.006, numTurns: 1 });
    expect(spent).not.toHaveProperty('unpricedCalls');
  });

  it("counts the main loop's calls as the session's turns, a subagent's calls only in its bill", () => {
    const meter = new SessionMeter(price);
    meter.add(message('m1', 'claude-sonnet-4-5', { input_tokens: 1000, output_tokens: 200 }));
    meter.add(message('s1', 'claude-sonnet-4-5', { input_tokens: 1000, output_tokens: 200 }, 'toolu_task'));
    meter.add(message('s2', 'claude-sonnet-4-5', { input_tokens: 1000, output_tokens: 200 }, 'toolu_task'));

    expect(meter.spent()).toMatchObject({ numTurns: 1 });
    expect(meter.spent()?.costUsd).toBeCloseTo(0.018, 10);
    expect(meter.outputTokens()).toBe(600);
  });

  it("prices a call's 1-hour cache writes as such (cache_creation), the largest count seen for the call", () => {
    const priced: Usage[] = [];
    const meter = new SessionMeter((_model, usage) => {
      priced.push(usage);
      return priceCall('anthropic', 'claude-sonnet-4-5', usage);
    });
    const usage = (oneHour: number) => ({
      input_tokens: 0,
      output_tokens: 0,
      cache_creation_input_tokens: 100_000,
      cache_creation: { ephemeral_5m_input_tokens: 100_000 - oneHour, ephemeral_1h_input_tokens: oneHour },
    });
    meter.add(message('m1', 'claude-sonnet-4-5', usage(40_000)));
    meter.add(message('m1', 'claude-sonnet-4-5', usage(0))); // a later block of the call, said differently
    const spent = meter.spent();
    expect(priced.at(-1)).toEqual({
      inputTokens: 100_000,
      outputTokens: 0,
      cacheWriteTokens: 100_000,
      cacheWrite1hTokens: 40_000,
    });
    // Sonnet 4.5: 0.04M 1-hour writes × $6 + 0.06M 5-minute writes × $3.75.
    expect(spent?.costUsd).toBeCloseTo(0.24 + 0.225, 10);
    expect(spent?.usage).toMatchObject({ cacheWriteTokens: 100_000, cacheWrite1hTokens: 40_000 });
  });
});
