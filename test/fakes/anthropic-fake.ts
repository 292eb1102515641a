// A fake Anthropic Messages API: POST /v1/messages, JSON or SSE (`stream: true`), text and tool_use
// blocks, usage with cache reads/writes, and Anthropic's error shape (`overloaded_error` on 529 …).
// With `thinking` on, each answer opens with a signed thinking block, and — as the real API does —
// tool results are refused when their assistant turn comes back without it, or with it modified,
// and so is a tool_choice that forces tool use (`tool`, `any`): thinking allows only `auto` / `none`.
import { createHash } from 'node:crypto';
import { type FakeAnswer, type FakeUsage, type RequestDigest, splitText, usageFor } from './answer.js';
import { FakeServer, type RecordedRequest, type Route } from './fake-server.js';
import type { SseEvent } from './sse.js';

interface AnthropicBlock {
  type: string;
  text?: string;
  content?: unknown;
  id?: string;
  name?: string;
  input?: unknown;
  thinking?: string;
  signature?: string;
}
interface AnthropicBody {
  model?: string;
  system?: unknown;
  messages?: Array<{ role: string; content: string | AnthropicBlock[] }>;
  tools?: Array<{ name: string; input_schema?: Record<string, unknown> }>;
  tool_choice?: { type: string; name?: string };
  stream?: boolean;
  max_tokens?: number;
  thinking?: { type?: string; budget_tokens?: number };
}

const DEFAULT_THINKING = 'Let me work out which tool answers this.';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

// Claude's filter stop is its refusal (stop_details.explanation absent: no `refusal` words given).
const STOP_REASONS = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  content_filter: 'refusal',
} as const;

export class AnthropicFake extends FakeServer {
  protected readonly label = 'anthropic';
  private messageCount = 0;
  private readonly thinkingOn = new WeakMap<RequestDigest, boolean>();

  protected route(request: RecordedRequest): Route | null {
    if (request.method !== 'POST' || request.path !== '/v1/messages') return null;
    const body = (request.body ?? {}) as AnthropicBody;
    const messages = body.messages ?? [];
    const forced = body.tool_choice?.type === 'tool' ? body.tool_choice.name : undefined;
    const forcedSchema = forced ? body.tools?.find((t) => t.name === forced)?.input_schema : undefined;
    const digest: RequestDigest = {
      model: body.model ?? 'claude-unknown',
      lastUserText: lastUserText(messages),
      promptChars: JSON.stringify(messages).length + JSON.stringify(body.system ?? '').length,
      stream: body.stream === true,
      ...(forced ? { forcedTool: forced } : {}),
      ...(forcedSchema ? { schema: forcedSchema } : {}),
      ...(body.max_tokens === undefined ? {} : { maxOutputTokens: body.max_tokens }),
    };
    this.thinkingOn.set(digest, body.thinking?.type === 'enabled' || body.thinking?.type === 'adaptive');
    return { stream: digest.stream, digest };
  }

  /**
   * With thinking on, the API checks the request: max_tokens must exceed the thinking budget (the
   * thinking counts in it), tool_choice may not force tool use (only `auto` or `none`), every
   * thinking block must carry the signature it was given (unmodified), and an assistant turn
   * continued by tool results must start with its thinking block. The messages are the API's own.
   */
  protected override refuse(request: RecordedRequest, route: Route) {
    const body = request.body as AnthropicBody;
    const empty = emptyMessage(body.messages ?? []);
    if (empty !== undefined) return { status: 400, message: empty };
    if (!this.thinkingOn.get(route.digest)) return undefined;
    const budget = body.thinking?.budget_tokens;
    if (budget !== undefined && (body.max_tokens ?? 0) <= budget) {
      return {
        status: 400,
        message:
          '`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at ' +
          'https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size',
      };
    }
    const choice = body.tool_choice?.type;
    if (choice === 'tool' || choice === 'any') {
      return { status: 400, message: 'Thinking may not be enabled when tool_choice forces tool use.' };
    }
    const messages = body.messages ?? [];
    for (const [i, m] of messages.entries()) {
      if (m.role !== 'assistant' || !Array.isArray(m.content)) continue;
      for (const [j, b] of m.content.entries()) {
        if (b.type === 'thinking' && b.signature !== signatureOf(b.thinking ?? '')) {
          return { status: 400, message: `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block` };
        }
      }
    }
    const last = messages[messages.length - 1];
    const continued =
      last?.role === 'user' && Array.isArray(last.content) && last.content.some((b) => b.type === 'tool_result');
    const turn = messages[messages.length - 2];
    if (!continued || turn?.role !== 'assistant') return undefined;
    const first = typeof turn.content === 'string' ? 'text' : turn.content[0]?.type;
    if (first === 'thinking' || first === 'redacted_thinking') return undefined;
    return {
      status: 400,
      message:
        `messages.${messages.length - 2}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${first}\`. ` +
        'When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). ' +
        'We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. ' +
        'Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking',
    };
  }

  protected errorBody(status: number, message: string): unknown {
    return { type: 'error', error: { type: ERROR_TYPES[status] ?? 'api_error', message } };
  }

  protected renderJson(answer: FakeAnswer, route: Route): unknown {
    const blocks = this.blocks(answer, route.digest);
    const lastToolUse = blocks.map((b) => b.type).lastIndexOf('tool_use');
    const cutBlock = blocks[lastToolUse];
    if (cutBlock && answer.cutArguments !== undefined) {
      // The API buffers each parameter of a tool's input until it is complete: an answer cut inside
      // the input carries the parameters completed before the cut, parsed, and not the one cut.
      blocks[lastToolUse] = { ...cutBlock, input: completedParameters(cutBlock.input ?? {}, answer.cutArguments) };
    }
    const usage = usageFor(answer, route.digest, JSON.stringify(blocks));
    return {
      ...this.messageShell(answer, route.digest),
      content: blocks,
      stop_reason: stopReason(answer),
      stop_sequence: null,
      stop_details: stopDetails(answer),
      usage: {
        input_tokens: uncachedInput(usage),
        output_tokens: usage.output,
        cache_creation_input_tokens: usage.cacheWrite,
        cache_read_input_tokens: usage.cacheRead,
        cache_creation: cacheCreation(usage),
      },
    };
  }

  protected renderEvents(answer: FakeAnswer, route: Route): SseEvent[] {
    const blocks = this.blocks(answer, route.digest);
    const usage = usageFor(answer, route.digest, JSON.stringify(blocks));
    const events: SseEvent[] = [
      {
        event: 'message_start',
        data: {
          type: 'message_start',
          message: {
            ...this.messageShell(answer, route.digest),
            content: [],
            stop_reason: null,
            stop_sequence: null,
            stop_details: null,
            usage: {
              input_tokens: uncachedInput(usage),
              output_tokens: 1,
              cache_creation_input_tokens: usage.cacheWrite,
              cache_read_input_tokens: usage.cacheRead,
              cache_creation: cacheCreation(usage),
            },
          },
        },
      },
    ];
    const lastToolUse = blocks.map((b) => b.type).lastIndexOf('tool_use');
    blocks.forEach((block, index) => {
      const start =
        block.type === 'text'
          ? { type: 'text', text: '' }
          : block.type === 'thinking'
            ? { type: 'thinking', thinking: '', signature: '' }
            : { ...block, input: {} };
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: start } });
      if (index === 0) events.push({ event: 'ping', data: { type: 'ping' } });
      const pieces =
        block.type === 'text'
          ? splitText(block.text ?? '', answer.chunks).map((text) => ({ type: 'text_delta', text }))
          : block.type === 'thinking'
            ? [
                ...splitText(block.thinking ?? '', 2).map((thinking) => ({ type: 'thinking_delta', thinking })),
                // The signature comes whole, just before the block's content_block_stop.
                { type: 'signature_delta', signature: block.signature },
              ]
            : splitText(
                index === lastToolUse && answer.cutArguments !== undefined
                  ? JSON.stringify(block.input).slice(0, answer.cutArguments)
                  : JSON.stringify(block.input),
                2,
              ).map((partial_json) => ({
                type: 'input_json_delta',
                partial_json,
              }));
      for (const delta of pieces) {
        events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta } });
      }
      events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
    });
    events.push({
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: stopReason(answer), stop_sequence: null, stop_details: stopDetails(answer) },
        usage: { output_tokens: usage.output },
      },
    });
    events.push({ event: 'message_stop', data: { type: 'message_stop' } });
    return events;
  }

  private messageShell(answer: FakeAnswer, digest: RequestDigest) {
    this.messageCount += 1;
    return {
      id: `msg_fake_${this.messageCount}`,
      type: 'message',
      role: 'assistant',
      model: answer.model ?? digest.model,
    };
  }

  private blocks(answer: FakeAnswer, digest: RequestDigest): AnthropicBlock[] {
    const blocks: AnthropicBlock[] = [];
    if (this.thinkingOn.get(digest)) {
      const thinking = answer.thinking ?? DEFAULT_THINKING;
      blocks.push({ type: 'thinking', thinking, signature: signatureOf(thinking) });
    }
    if (answer.text !== undefined) blocks.push({ type: 'text', text: answer.text });
    if (answer.json !== undefined) {
      blocks.push({ type: 'tool_use', id: 'toolu_fake_json', name: digest.forcedTool ?? 'json', input: answer.json });
    }
    (answer.toolCalls ?? []).forEach((call, i) => {
      blocks.push({ type: 'tool_use', id: call.id ?? `toolu_fake_${i + 1}`, name: call.name, input: call.arguments });
    });
    return blocks;
  }
}

/** The top-level parameters of `input` whose JSON text ends within its first `cut` characters. */
function completedParameters(input: unknown, cut: number): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  let length = 1; // the opening brace
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    length += (Object.keys(kept).length > 0 ? 1 : 0) + JSON.stringify(key).length + 1 + JSON.stringify(value).length;
    if (length > cut) break;
    kept[key] = value;
  }
  return kept;
}

/** The fake's signature of a thinking block: opaque to the client, checkable by the fake. */
function signatureOf(thinking: string): string {
  return createHash('sha256').update(`fake-thinking-signature\n${thinking}`).digest('base64');
}

/** The cache writes split by lifetime, as the API reports them beside their sum. */
function cacheCreation(usage: FakeUsage): { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number } {
  const oneHour = usage.cacheWrite1h ?? 0;
  return { ephemeral_5m_input_tokens: (usage.cacheWrite ?? 0) - oneHour, ephemeral_1h_input_tokens: oneHour };
}

/** FakeAnswer.usage.input is the whole prompt; Anthropic reports cache reads/writes apart from input_tokens. */
function uncachedInput(usage: FakeUsage): number {
  return Math.max(0, usage.input - (usage.cacheRead ?? 0) - (usage.cacheWrite ?? 0));
}

function stopReason(answer: FakeAnswer): string {
  if (answer.refusal !== undefined) return 'refusal';
  if (answer.finishReason) return STOP_REASONS[answer.finishReason];
  return answer.toolCalls?.length || answer.json !== undefined ? 'tool_use' : 'end_turn';
}

/** The refusal's details (its policy category is not modelled); null for any other stop. */
function stopDetails(answer: FakeAnswer): unknown {
  if (answer.refusal === undefined) return null;
  return { type: 'refusal', category: null, explanation: answer.refusal || null };
}

function lastUserText(messages: NonNullable<AnthropicBody['messages']>): string {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return last.content
    .map((b) => (b.type === 'text' ? b.text : b.type === 'tool_result' ? JSON.stringify(b.content) : ''))
    .join('');
}

/**
 * The API's refusal of an empty message: every message must have content but an optional final
 * assistant one (a prefill), and a text block must not be empty.
 */
function emptyMessage(messages: NonNullable<AnthropicBody['messages']>): string | undefined {
  for (const [i, m] of messages.entries()) {
    const last = i === messages.length - 1 && m.role === 'assistant';
    if (!last && (m.content === '' || (Array.isArray(m.content) && m.content.length === 0)))
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    if (!Array.isArray(m.content)) continue;
    for (const [j, b] of m.content.entries()) {
      if (b.type === 'text' && b.text === '')
        return `messages.${i}.content.${j}.text: text content blocks must be non-empty`;
    }
  }
  return undefined;
}
