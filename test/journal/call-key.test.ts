import { describe, expect, it } from 'vitest';
import { callKey, canonicalJson } from '../../src/journal/call-key.js';
import type { ModelRequest } from '../../src/providers/provider.js';

const base: ModelRequest = {
  provider: 'anthropic',
  model: 'claude-sonnet-4-5',
  system: 'be brief',
  messages: [{ role: 'user', content: 'hello' }],
  maxTokens: 100,
  temperature: 0,
  schema: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } } },
  tools: [{ name: 't', description: 'd', parameters: { type: 'object' } }],
  extra: { top_k: 3 },
};

describe('callKey', () => {
  it('is a sha256 hex digest', () => {
    expect(callKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on key order or undefined fields', () => {
    const reordered: ModelRequest = {
      extra: { top_k: 3 },
      tools: [{ parameters: { type: 'object' }, description: 'd', name: 't' }],
      schema: { properties: { b: { type: 'number' }, a: { type: 'string' } }, type: 'object' },
      temperature: 0,
      maxTokens: 100,
      messages: [{ content: 'hello', role: 'user' }],
      system: 'be brief',
      model: 'claude-sonnet-4-5',
      provider: 'anthropic',
      topP: undefined,
      stop: undefined,
    };
    expect(callKey(reordered)).toBe(callKey(base));
  });

  it('changes with anything that can change the answer', () => {
    const variants: Partial<ModelRequest>[] = [
      { provider: 'gemini' },
      { model: 'claude-haiku-4-5' },
      { system: 'be verbose' },
      { system: undefined },
      { messages: [{ role: 'user', content: 'hello!' }] },
      {
        messages: [
          { role: 'user', content: 'hello' },
          { role: 'assistant', content: 'hi' },
        ],
      },
      { maxTokens: 101 },
      { temperature: 0.1 },
      { topP: 0.9 },
      { stop: ['END'] },
      { schema: { type: 'object', properties: { a: { type: 'number' } } } },
      { tools: [] },
      { extra: { top_k: 4 } },
    ];
    const keys = new Set(variants.map((v) => callKey({ ...base, ...v })));
    expect(keys.size).toBe(variants.length);
    expect(keys.has(callKey(base))).toBe(false);
  });

  it('keeps array order (message order matters)', () => {
    const ab: ModelRequest = {
      ...base,
      messages: [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ],
    };
    const ba: ModelRequest = { ...ab, messages: [...ab.messages].reverse() };
    expect(callKey(ab)).not.toBe(callKey(ba));
  });

  it('canonicalJson sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [{ z: 1, y: 2 }] } })).toBe('{"a":{"c":[{"y":2,"z":1}]},"b":1}');
  });

  it('an endpoint other than the standard one is part of the address; none leaves it as it was', () => {
    expect(callKey(base, undefined)).toBe(callKey(base));
    const a = callKey(base, 'openai http://one.internal/v1');
    const b = callKey(base, 'openai http://two.internal/v1');
    expect(new Set([callKey(base), a, b]).size).toBe(3);
  });

  it('keeps the same address across releases (records already journaled must still answer)', () => {
    // Computed by the release before the canonical form was built in key order: any change to the
    // form breaks this, and must bump KEY_VERSION instead.
    const full: ModelRequest = {
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Review a.ts' }],
      maxTokens: 512,
      temperature: 0,
      stop: ['END'],
      schema: { type: 'object', properties: { ok: { type: 'boolean' } } },
      extra: { generation_config: { b: 1, a: 2 } },
    };
    expect(callKey(full)).toBe('9da86a7fb26fbc4a939d5c9d62f0c5d6e14cf191baa30974d93c8a105987b0ea');
    expect(callKey({ provider: 'mock', model: 'mock-1', messages: [{ role: 'user', content: 'hi' }] })).toBe(
      '00c047f6981bf16c36e6d3ddf66a131869a3995ca046c2bb63ee54a02cc9a03e',
    );
  });
});
