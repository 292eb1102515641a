// A tool result is bounded once, coherently: read_file reads less than the tool result bound, so its
// own note saying how large the file really is reaches the model (it was cut off), and the bound never
// cuts a surrogate pair in half (an invalid character sent to the provider).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTools, runLlmCall } from '../../src/llm/index.js';
import type { ModelCaller } from '../../src/llm/model-caller.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';

function scriptedCaller(toolCall: { name: string; arguments: Record<string, unknown> }): {
  call: ModelCaller;
  seen: ModelRequest[];
} {
  const seen: ModelRequest[] = [];
  const usage = { inputTokens: 1, outputTokens: 1 };
  const call: ModelCaller = async (request) => {
    seen.push(request);
    const response: ModelResponse =
      seen.length === 1
        ? ({ text: '', toolCalls: [{ id: 't1', ...toolCall }], usage, finishReason: 'tool_use', model: 'm' } as never)
        : ({ text: 'done', toolCalls: [], usage, finishReason: 'stop', model: 'm' } as never);
    return response;
  };
  return { call, seen };
}

describe('tool result bounds', () => {
  it('read_file tells the model the file was truncated and how big it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rt-bounds-'));
    writeFileSync(join(dir, 'big.txt'), 'a'.repeat(300_000));
    const { specs, implementations } = await resolveTools(['read_file'], dir);
    const { call } = scriptedCaller({ name: 'read_file', arguments: { path: 'big.txt' } });
    const result = await runLlmCall({
      request: { provider: 'mock', model: 'm', messages: [{ role: 'user', content: 'go' }], tools: specs },
      call,
      tools: implementations,
      signal: AbortSignal.timeout(5000),
    });
    const text = result.toolCalls[0]?.result ?? '';
    // Actual: ends with "[truncated: 262187 characters]"; the file's size (300000) appears nowhere.
    expect(text).toContain('300000');
  });

  it('never cuts a surrogate pair in half', async () => {
    const { call } = scriptedCaller({ name: 'emoji', arguments: {} });
    const result = await runLlmCall({
      request: { provider: 'mock', model: 'm', messages: [{ role: 'user', content: 'go' }] },
      call,
      tools: { emoji: () => `${'a'.repeat(99_999)}😀 and more` },
      signal: AbortSignal.timeout(5000),
    });
    const text = result.toolCalls[0]?.result ?? '';
    // Actual: the character at 99,999 is a lone high surrogate (\ud83d).
    // Well formed: no lone surrogate.
    expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)).toBe(false);
  });
});
