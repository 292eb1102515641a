// The worst case of a call, before it is made — what a budget must allow for.
// Input: over everything sent (system, messages, tool definitions and the output schema), a token
// per four ASCII characters (the usual ratio of English text and code for the vendors' tokenizers)
// and a token per other character: CJK, Cyrillic, Greek, Arabic… cost the tokenizers about one
// token a character (an emoji more than one, and it counts two here, as two UTF-16 units), so four of
// them to a token would let a prompt in Chinese take a run four times past its budget.
// Output: the request's `maxTokens` — the most the model may answer — or DEFAULT_OUTPUT_TOKENS
// when the request sets none. Deliberately pessimistic: a budget stops *before* overspending.
import type { ModelRequest, Usage } from '../providers/provider.js';

export const CHARS_PER_TOKEN = 4;
export const DEFAULT_OUTPUT_TOKENS = 4096;

export function estimateInputTokens(request: ModelRequest): number {
  const count = { ascii: 0, other: 0 };
  if (request.system) add(count, request.system);
  for (const message of request.messages) {
    add(count, message.content);
    if (message.role === 'assistant' && message.toolCalls) add(count, JSON.stringify(message.toolCalls));
  }
  if (request.tools) add(count, JSON.stringify(request.tools));
  if (request.schema) add(count, JSON.stringify(request.schema));
  return Math.ceil(count.ascii / CHARS_PER_TOKEN) + count.other;
}

export function estimateUsage(request: ModelRequest): Usage {
  return { inputTokens: estimateInputTokens(request), outputTokens: request.maxTokens ?? DEFAULT_OUTPUT_TOKENS };
}

function add(count: { ascii: number; other: number }, text: string): void {
  let other = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) other++;
  count.ascii += text.length - other;
  count.other += other;
}
