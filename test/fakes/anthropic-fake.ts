// A fake Anthropic Messages API: POST /v1/messages, JSON or SSE (`stream: true`), text and tool_use
// blocks, usage with cache reads/writes, and Anthropic's error shape (`overloaded_error` on 529 …).
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
}
interface AnthropicBody {
  model?: string;
  system?: unknown;
  messages?: Array<{ role: string; content: string | AnthropicBlock[] }>;
  tools?: Array<{ name: string; input_schema?: Record<string, unknown> }>;
  tool_choice?: { type: string; name?: string };
  stream?: boolean;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const STOP_REASONS = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use' } as const;

export class AnthropicFake extends FakeServer {
  protected readonly label = 'anthropic';
  private messageCount = 0;

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
    };
    return { stream: digest.stream, digest };
  }

  protected errorBody(status: number, message: string): unknown {
    return { type: 'error', error: { type: ERROR_TYPES[status] ?? 'api_error', message } };
  }

  protected renderJson(answer: FakeAnswer, route: Route): unknown {
    const blocks = this.blocks(answer, route.digest);
    const usage = usageFor(answer, route.digest, JSON.stringify(blocks));
    return {
      ...this.messageShell(answer, route.digest),
      content: blocks,
      stop_reason: stopReason(answer),
      stop_sequence: null,
      usage: {
        input_tokens: uncachedInput(usage),
        output_tokens: usage.output,
        cache_creation_input_tokens: usage.cacheWrite,
        cache_read_input_tokens: usage.cacheRead,
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
            usage: {
              input_tokens: uncachedInput(usage),
              output_tokens: 1,
              cache_creation_input_tokens: usage.cacheWrite,
              cache_read_input_tokens: usage.cacheRead,
            },
          },
        },
      },
    ];
    blocks.forEach((block, index) => {
      const start = block.type === 'text' ? { type: 'text', text: '' } : { ...block, input: {} };
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: start } });
      if (index === 0) events.push({ event: 'ping', data: { type: 'ping' } });
      const pieces =
        block.type === 'text'
          ? splitText(block.text ?? '', answer.chunks).map((text) => ({ type: 'text_delta', text }))
          : splitText(JSON.stringify(block.input), 2).map((partial_json) => ({
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
        delta: { stop_reason: stopReason(answer), stop_sequence: null },
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

/** FakeAnswer.usage.input is the whole prompt; Anthropic reports cache reads/writes apart from input_tokens. */
function uncachedInput(usage: FakeUsage): number {
  return Math.max(0, usage.input - (usage.cacheRead ?? 0) - (usage.cacheWrite ?? 0));
}

function stopReason(answer: FakeAnswer): string {
  if (answer.finishReason) return STOP_REASONS[answer.finishReason];
  return answer.toolCalls?.length || answer.json !== undefined ? 'tool_use' : 'end_turn';
}

function lastUserText(messages: NonNullable<AnthropicBody['messages']>): string {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return last.content
    .map((b) => (b.type === 'text' ? b.text : b.type === 'tool_result' ? JSON.stringify(b.content) : ''))
    .join('');
}
