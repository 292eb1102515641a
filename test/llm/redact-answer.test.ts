// What a model says is redacted before the engine keeps or uses it (src/llm/redact-answer.ts): its
// text, refusal, the strings of a structured answer and of tool calls' arguments — and an answer with
// nothing to hide is the very same object, not a copy.
import { describe, expect, it } from 'vitest';
import { redactAnswer } from '../../src/llm/redact-answer.js';
import type { ModelResponse } from '../../src/providers/provider.js';
import { createRedactor, REDACTED } from '../../src/telemetry/redact.js';

const TOKEN = 'dt-planted-7h8j9k0l';
const redact = createRedactor({ DEPLOY_TOKEN: TOKEN });

function answer(extra: Partial<ModelResponse> = {}): ModelResponse {
  return {
    text: 'nothing to hide',
    toolCalls: [],
    usage: { inputTokens: 3, outputTokens: 4 },
    finishReason: 'stop',
    model: 'm',
    ...extra,
  };
}

describe('redactAnswer', () => {
  it('returns an answer without secrets as it is (the same object, nothing copied)', () => {
    const plain = answer({
      object: { a: ['x', 1, null, { b: 'https://example.com' }] },
      toolCalls: [{ id: 't1', name: 'read', arguments: { path: 'src/a.ts' } }],
    });
    expect(redactAnswer(plain, redact)).toBe(plain);
  });

  it('redacts the text, the refusal, the structured value and tool-call arguments, and nothing else', () => {
    const vendorTurn = { protocol: 'anthropic', blocks: [{ type: 'thinking', thinking: 'x', signature: 'sig' }] };
    const original = answer({
      text: `{"token":"${TOKEN}"}`,
      object: { token: TOKEN, list: ['ok', `key ${TOKEN}`], [TOKEN]: 1, n: 2 },
      refusal: `I will not print ${TOKEN}`,
      toolCalls: [
        { id: 't1', name: 'write', arguments: { content: `TOKEN=${TOKEN}` }, signature: 'opaque' },
        { id: 't2', name: 'read', arguments: { path: 'a' } },
      ],
      vendorTurn: vendorTurn as unknown as ModelResponse['vendorTurn'],
    });
    const snapshot = structuredClone(original);
    const redacted = redactAnswer(original, redact);

    expect(JSON.stringify(redacted)).not.toContain(TOKEN);
    expect(redacted.text).toBe(`{"token":"${REDACTED}"}`);
    expect(redacted.object).toEqual({ token: REDACTED, list: ['ok', `key ${REDACTED}`], [REDACTED]: 1, n: 2 });
    expect(redacted.refusal).toBe(`I will not print ${REDACTED}`);
    expect(redacted.toolCalls[0]).toEqual({
      id: 't1',
      name: 'write',
      arguments: { content: `TOKEN=${REDACTED}` },
      signature: 'opaque',
    });
    expect(redacted.toolCalls[1]).toBe(original.toolCalls[1]); // unchanged: not copied
    expect(redacted.vendorTurn).toBe(original.vendorTurn); // a signed thinking block alone: sent back verbatim
    expect(redacted.usage).toBe(original.usage);
    expect(original).toEqual(snapshot); // the provider's answer is not altered in place
  });

  it('keeps a `__proto__` key of a JSON answer an own property', () => {
    const object = JSON.parse(`{"__proto__":{"x":"${TOKEN}"}}`) as Record<string, unknown>;
    const redacted = redactAnswer(answer({ object }), redact).object as Record<string, unknown>;
    expect(Object.hasOwn(redacted, '__proto__')).toBe(true);
    expect(JSON.stringify(redacted)).toBe(`{"__proto__":{"x":"${REDACTED}"}}`);
  });
});

describe('redactAnswer, the turn kept to be sent back (Anthropic extended thinking)', () => {
  const blocks = [
    { type: 'thinking', thinking: 'the user wants the token', signature: 'sig-1' },
    { type: 'text', text: `here it is: ${TOKEN}` },
    { type: 'tool_use', id: 't1', name: 'save', input: { value: TOKEN, keep: 'x' } },
  ];

  it('redacts its text and tool_use blocks, leaves the signed thinking block as sent', () => {
    const out = redactAnswer(answer({ vendorTurn: { protocol: 'anthropic', blocks } }), redact);
    const turn = out.vendorTurn?.blocks as typeof blocks;
    expect(JSON.stringify(turn)).not.toContain(TOKEN);
    expect(turn[0]).toBe(blocks[0]);
    expect(turn[1]).toEqual({ type: 'text', text: `here it is: ${REDACTED}` });
    expect(turn[2]).toEqual({ type: 'tool_use', id: 't1', name: 'save', input: { value: REDACTED, keep: 'x' } });
  });

  it('keeps a turn with nothing to hide as it is', () => {
    const clean = answer({ vendorTurn: { protocol: 'anthropic', blocks: [blocks[0], { type: 'text', text: 'hi' }] } });
    expect(redactAnswer(clean, redact)).toBe(clean);
  });
});
