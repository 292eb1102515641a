// The worst case of a call, before it is made — what a budget must allow for.
// Input: over everything sent (system, messages, tool definitions and the output schema), a token
// per four ASCII characters (the usual ratio of English text and code for the vendors' tokenizers)
// and a token per other character: CJK, Cyrillic, Greek, Arabic… cost the tokenizers about one
// token a character (an emoji more than one, and it counts two here, as two UTF-16 units), so four of
// them to a token would let a prompt in Chinese take a run four times past its budget.
// Output: the cap the request carries — the most the model may answer: its `maxTokens`, else one
// its extras set (Gemini's `generation_config.maxOutputTokens`) — or DEFAULT_OUTPUT_TOKENS when it
// carries none (that, after Anthropic's thinking budget when thinking is on). Deliberately pessimistic: a budget stops *before* overspending.
//
// The estimate is a guarantee only if the provider is held to the cap it assumed: OpenAI and Gemini
// send no cap at all when a request names none (the model may then answer tens of thousands of
// tokens). So under a budget every call goes out with an explicit cap (`withOutputCap`, applied by
// the engine's model caller, src/engine/model-caller-for.ts): the one the estimate read.
import type { ModelRequest, Usage } from '../providers/provider.js';
import { thinkingBudgetOf } from '../providers/thinking-budget.js';

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
  return { inputTokens: estimateInputTokens(request), outputTokens: outputCapOf(request) ?? defaultOutputCap(request) };
}

/**
 * The cap assumed for a request that carries none: DEFAULT_OUTPUT_TOKENS, after the thinking budget
 * of Anthropic's extended thinking (`thinking.budget_tokens`) if the request turns it on — thinking
 * counts in the cap, and the API refuses a cap not above the budget (as the Anthropic provider's
 * own default does, src/providers/anthropic.ts).
 */
export function defaultOutputCap(request: ModelRequest): number {
  return DEFAULT_OUTPUT_TOKENS + thinkingBudgetOf(request.extra?.thinking);
}

/**
 * The output cap `request` carries: `maxTokens` — which every provider sends in place of any cap in
 * the extras — else the largest one its extras set: a step's `generation_config.maxOutputTokens`
 * (Gemini's), or, from code, an SDK field (`maxOutputTokens`, `max_tokens`, `max_completion_tokens`).
 * Undefined: none, and OpenAI and Gemini then send none (Anthropic sends its default, 4096).
 */
export function outputCapOf(request: ModelRequest): number | undefined {
  if (request.maxTokens !== undefined) return request.maxTokens;
  const extra = request.extra;
  if (!extra) return undefined;
  const generation = extra.generation_config as Record<string, unknown> | undefined;
  let cap: number | undefined;
  for (const value of [
    generation?.maxOutputTokens,
    extra.maxOutputTokens,
    extra.max_tokens,
    extra.max_completion_tokens,
  ]) {
    // A number, or a numeric string (the Gemini API's JSON takes "8192" for an int32 field).
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n === 'number' && Number.isFinite(n) && n > 0) cap = Math.max(cap ?? 0, Math.ceil(n));
  }
  return cap;
}

/**
 * `request` with its output cap explicit in `maxTokens`: the cap it carries, else
 * DEFAULT_OUTPUT_TOKENS — what the estimate assumed, sent to the provider so that a call admitted
 * by a budget cannot answer more. The same request when it names its cap already.
 */
export function withOutputCap(request: ModelRequest): ModelRequest {
  if (request.maxTokens !== undefined) return request;
  return { ...request, maxTokens: outputCapOf(request) ?? defaultOutputCap(request) };
}

function add(count: { ascii: number; other: number }, text: string): void {
  let other = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) other++;
  count.ascii += text.length - other;
  count.other += other;
}
