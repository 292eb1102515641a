// What one Gemini call sends: the SDK continues a long answer from its checkpoints itself (the
// API's continuation protocol: the answer whole, its usage summed over the requests), and never runs
// a tool itself (the tool loop is the engine's). Counted at the protocol-level fake, with function
// calls and with answers that ask to be continued (src/providers/gemini.ts).
import type { CallableTool, FunctionCall, Part } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GeminiProvider } from '../../src/providers/gemini.js';
import type { ModelRequest, ToolSpec } from '../../src/providers/provider.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { type CallStats, createModelCaller } from '../../src/resilience/model-caller.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { type FakeAnswer, GeminiFake, type Route } from '../fakes/index.js';
import type { SseEvent } from '../fakes/sse.js';
import { collect } from './harness.js';

interface Candidate {
  finishReason?: string;
  continuationToken?: string;
}

/**
 * The Gemini fake, but its next `continuations` answers end as a long decode's checkpoint does:
 * finishReason CONTINUATION with a continuationToken, which a client may send back for more.
 */
class ContinuingGeminiFake extends GeminiFake {
  continuations = 0;
  private tokens = 0;

  protected override renderJson(answer: FakeAnswer, route: Route): unknown {
    const body = super.renderJson(answer, route);
    this.checkpoint(body);
    return body;
  }

  protected override renderEvents(answer: FakeAnswer, route: Route): SseEvent[] {
    const events = super.renderEvents(answer, route);
    this.checkpoint(events[events.length - 1]?.data);
    return events;
  }

  override reset(): void {
    super.reset();
    this.continuations = 0;
  }

  private checkpoint(body: unknown): void {
    const candidate = (body as { candidates?: Candidate[] } | undefined)?.candidates?.[0];
    if (this.continuations <= 0 || !candidate) return;
    this.continuations--;
    candidate.finishReason = 'CONTINUATION';
    candidate.continuationToken = Buffer.from(`checkpoint ${++this.tokens}`).toString('base64');
  }
}

const fake = new ContinuingGeminiFake();
const MODEL = 'gemini-2.5-flash';
const TOOLS: ToolSpec[] = [
  { name: 'lookup', description: 'Look up', parameters: { type: 'object', properties: { q: { type: 'string' } } } },
];

beforeAll(async () => {
  await fake.start();
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => {
  fake.reset();
});

const provider = () => new GeminiProvider({ apiKey: 'gemini-test-key', baseUrl: fake.baseUrl });
const ask = (overrides: Partial<ModelRequest> = {}): ModelRequest => ({
  provider: 'gemini',
  model: MODEL,
  messages: [{ role: 'user', content: 'find x' }],
  ...overrides,
});
const signal = () => AbortSignal.timeout(5000);

/** What the SDK would run by itself: a tool with `callTool()` (none of ours has one). */
function callableTool(): CallableTool & { calls: FunctionCall[][] } {
  const calls: FunctionCall[][] = [];
  return {
    calls,
    tool: async () => ({ functionDeclarations: [{ name: 'lookup', description: 'Look up' }] }),
    callTool: async (functionCalls: FunctionCall[]): Promise<Part[]> => {
      calls.push(functionCalls);
      return functionCalls.map((c) => ({ functionResponse: { name: c.name ?? '', response: { output: '42' } } }));
    },
  };
}

describe('gemini: what one call sends', () => {
  it('with tools declared, a function call answer comes back as the call’s result (generate and stream)', async () => {
    fake.queueAnswers(
      { toolCalls: [{ name: 'lookup', arguments: { q: 'x' } }], usage: { input: 40, output: 6 } },
      { toolCalls: [{ name: 'lookup', arguments: { q: 'y' } }], usage: { input: 41, output: 7 } },
    );
    const generated = await provider().generate(ask({ tools: TOOLS }), signal());
    expect(fake.requests).toHaveLength(1);
    expect(generated.finishReason).toBe('tool_calls');
    expect(generated.toolCalls).toEqual([expect.objectContaining({ name: 'lookup', arguments: { q: 'x' } })]);
    expect(generated.usage).toEqual({ inputTokens: 40, outputTokens: 6 });

    const { done: streamed } = await collect(provider().stream(ask({ tools: TOOLS }), signal()));
    expect(fake.requests).toHaveLength(2);
    expect(streamed?.toolCalls).toEqual([expect.objectContaining({ name: 'lookup', arguments: { q: 'y' } })]);
    expect(streamed?.usage).toEqual({ inputTokens: 41, outputTokens: 7 });
  });

  it('an answer that asks to be continued is continued: the whole text, the usage of both requests', async () => {
    fake.continuations = 1;
    fake.queueAnswers(
      { text: 'The first half', usage: { input: 100, output: 7 } },
      { text: ' and the second half.', usage: { input: 120, output: 9 } },
    );
    const response = await provider().generate(ask(), signal());
    expect(fake.requests).toHaveLength(2);
    expect(response.text).toBe('The first half and the second half.');
    expect(response.finishReason).toBe('stop');
    expect(response.usage).toEqual({ inputTokens: 220, outputTokens: 16 });
  });

  it('a stream that ends at a checkpoint goes on from it: every chunk, the usage of both requests', async () => {
    fake.continuations = 1;
    fake.queueAnswers(
      { text: 'The first half', usage: { input: 100, output: 7 } },
      { text: ' and the second half.', usage: { input: 120, output: 9 } },
    );
    const { chunks, done } = await collect(provider().stream(ask(), signal()));
    expect(fake.requests).toHaveLength(2);
    expect(chunks.join('')).toBe('The first half and the second half.');
    expect(done?.finishReason).toBe('stop');
    expect(done?.usage).toEqual({ inputTokens: 220, outputTokens: 16 });
  });

  it('a CallableTool passed in `extra` is never run by the SDK: the function call is the answer', async () => {
    const tool = callableTool();
    // Were the SDK to run the tool, its second request would get the fake's default answer (text).
    fake.queueAnswers({ toolCalls: [{ name: 'lookup', arguments: { q: 'x' } }] });
    const response = await provider().generate(ask({ extra: { tools: [tool] } }), signal());
    expect(tool.calls).toEqual([]);
    expect(fake.requests).toHaveLength(1);
    expect(response.toolCalls).toEqual([expect.objectContaining({ name: 'lookup' })]);

    const streamTool = callableTool();
    fake.queueAnswers({ toolCalls: [{ name: 'lookup', arguments: { q: 'y' } }] });
    const { done } = await collect(provider().stream(ask({ extra: { tools: [streamTool] } }), signal()));
    expect(streamTool.calls).toEqual([]);
    expect(fake.requests).toHaveLength(2);
    expect(done?.toolCalls).toEqual([expect.objectContaining({ name: 'lookup' })]);
  });

  it('`extra` cannot turn automatic function calling back on, and no setting goes on the wire', async () => {
    const tool = callableTool();
    fake.queueAnswers({ toolCalls: [{ name: 'lookup', arguments: { q: 'x' } }] });
    await provider().generate(
      ask({
        extra: {
          tools: [tool],
          automaticContinuation: true,
          automaticFunctionCalling: { disable: false, maximumRemoteCalls: 5 },
        },
      }),
      signal(),
    );
    expect(tool.calls).toEqual([]);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.rawBody).not.toMatch(/automatic|continuation/i);
  });
});

describe('gemini through the gate', () => {
  it('a tool-call answer is one request and one attempt; a continued answer one attempt, billed whole', async () => {
    const stats: CallStats[] = [];
    const gemini = provider();
    const call = createModelCaller({
      resolveProvider: () => gemini,
      gates: new GateRegistry(),
      bus: new EventBus(),
      runId: 'run-1',
      step: 'ask',
      price: () => 0,
      onCallFinished: (done) => stats.push(done),
    });
    fake.queueAnswers({ toolCalls: [{ name: 'lookup', arguments: { q: 'x' } }] });
    await call(ask({ tools: TOOLS }), { signal: signal(), stream: false });
    expect(fake.requests).toHaveLength(1);
    fake.continuations = 1;
    fake.queueAnswers(
      { text: 'long', usage: { input: 10, output: 1 } },
      { text: 'er', usage: { input: 11, output: 1 } },
    );
    const streamed = await call(ask({ messages: [{ role: 'user', content: 'go on' }] }), {
      signal: signal(),
      stream: true,
    });
    expect(fake.requests).toHaveLength(3);
    expect(streamed.text).toBe('longer');
    expect(streamed.usage).toEqual({ inputTokens: 21, outputTokens: 2 });
    // The SDK's continuation happens inside the gate's one attempt (see src/providers/gemini.ts).
    expect(stats.map((s) => s.attempts)).toEqual([1, 1]);
  });
});

describe('gemini: a step’s generation_config', () => {
  it('reaches the request’s generationConfig; the step’s own parameters win', async () => {
    await provider().generate(
      ask({
        temperature: 0.7,
        extra: { generation_config: { topK: 3, temperature: 0.2, thinkingConfig: { thinkingBudget: 0 } } },
      }),
      signal(),
    );
    const body = fake.requests[0]?.body as { generationConfig?: Record<string, unknown> };
    expect(body.generationConfig).toMatchObject({ topK: 3, temperature: 0.7, thinkingConfig: { thinkingBudget: 0 } });
    expect(fake.requests[0]?.rawBody).not.toContain('generation_config');
  });
});
