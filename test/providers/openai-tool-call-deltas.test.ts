// Streamed tool calls from OpenAI-compatible servers that do not number them as OpenAI does: no
// `index` at all (Gemini's OpenAI-compatible endpoint, Ollama before 0.5), or index 0 for every call
// (vLLM's and SGLang's tool parsers, proxies in front of Gemini). Each call must come back whole and
// apart — not dropped (the answer would look like one without tool calls) and not merged into one
// call whose arguments are two JSON objects end to end (not JSON: retried, paid again, cut the same).
import { describe, expect, it } from 'vitest';
import { ToolCallDeltas } from '../../src/providers/openai-tool-deltas.js';
import type { OpenAIFake } from '../fakes/index.js';
import { collect, request, subjects } from './harness.js';

const subject = subjects().find((s) => s.name === 'openai');
if (!subject) throw new Error('no openai subject');
const fake = subject.fake as OpenAIFake;

const TWO_CALLS = [
  { id: 'call_a', name: 'read_file', arguments: { path: 'a.txt' } },
  { id: 'call_b', name: 'list_files', arguments: { dir: 'src' } },
];

describe('openai provider: streamed tool calls however the server numbers them', () => {
  it.each(['sequential', 'omitted', 'reused'] as const)('%s indexes: each call whole and apart', async (mode) => {
    fake.toolCallIndexes = mode;
    fake.queueAnswers({ toolCalls: TWO_CALLS });
    const { done } = await collect(subject.provider().stream(request(subject), AbortSignal.timeout(5000)));
    expect(done?.toolCalls).toEqual([
      { id: 'call_a', name: 'read_file', arguments: { path: 'a.txt' } },
      { id: 'call_b', name: 'list_files', arguments: { dir: 'src' } },
    ]);
    expect(done?.finishReason).toBe('tool_calls');
  });
});

describe('ToolCallDeltas', () => {
  it('continues a call across deltas without index or id, and tells calls apart by a new name when ids are empty', () => {
    // Gemini's OpenAI-compatible endpoint: `index: null`, `id: ''`, arguments possibly in pieces.
    const deltas = new ToolCallDeltas();
    deltas.add({ index: null as never, id: '', type: 'function', function: { name: 'f', arguments: '{"a":' } });
    deltas.add({ index: null as never, function: { arguments: '1}' } });
    deltas.add({ index: null as never, id: '', type: 'function', function: { name: 'g', arguments: '{}' } });
    expect(deltas.calls).toEqual([
      { id: '', name: 'f', args: '{"a":1}' },
      { id: '', name: 'g', args: '{}' },
    ]);
  });

  it("keeps each call's thought signature (Gemini 3: extra_content), from whichever delta carries it", () => {
    const sig = (s: string) => ({ extra_content: { google: { thought_signature: s } } }) as object;
    const deltas = new ToolCallDeltas();
    deltas.add({ index: 0, id: 'c0', type: 'function', function: { name: 'f', arguments: '' }, ...sig('s0') });
    deltas.add({ index: 1, id: 'c1', type: 'function', function: { name: 'g', arguments: '' } });
    deltas.add({ index: 0, function: { arguments: '{}' } });
    deltas.add({ index: 1, function: { arguments: '{}' }, ...sig('s1') });
    expect(deltas.calls).toEqual([
      { id: 'c0', name: 'f', args: '{}', signature: 's0' },
      { id: 'c1', name: 'g', args: '{}', signature: 's1' },
    ]);
  });

  it('keeps interleaved calls of distinct indexes apart (OpenAI parallel tool calls)', () => {
    const deltas = new ToolCallDeltas();
    deltas.add({ index: 0, id: 'c0', type: 'function', function: { name: 'f', arguments: '' } });
    deltas.add({ index: 1, id: 'c1', type: 'function', function: { name: 'g', arguments: '{"b"' } });
    deltas.add({ index: 0, function: { arguments: '{"a":1}' } });
    deltas.add({ index: 1, function: { arguments: ':2}' } });
    expect(deltas.calls).toEqual([
      { id: 'c0', name: 'f', args: '{"a":1}' },
      { id: 'c1', name: 'g', args: '{"b":2}' },
    ]);
  });
});
