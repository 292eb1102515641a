// The worst case of a call, before it is made — what a budget must allow for.
// Input: characters / 4 (the usual English-text ratio for the vendors' tokenizers) over
// everything sent: system, messages, tool definitions and the output schema.
// Output: the request's `maxTokens` — the most the model may answer — or DEFAULT_OUTPUT_TOKENS
// when the request sets none. Deliberately pessimistic: a budget stops *before* overspending.
import type { ModelRequest, Usage } from '../providers/provider.js';

export const CHARS_PER_TOKEN = 4;
export const DEFAULT_OUTPUT_TOKENS = 4096;

export function estimateInputTokens(request: ModelRequest): number {
  let chars = request.system?.length ?? 0;
  for (const message of request.messages) {
    chars += message.content.length;
    if (message.role === 'assistant' && message.toolCalls) chars += JSON.stringify(message.toolCalls).length;
  }
  if (request.tools) chars += JSON.stringify(request.tools).length;
  if (request.schema) chars += JSON.stringify(request.schema).length;
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

export function estimateUsage(request: ModelRequest): Usage {
  return { inputTokens: estimateInputTokens(request), outputTokens: request.maxTokens ?? DEFAULT_OUTPUT_TOKENS };
}
