// A fake OpenAI chat completions API: POST /v1/chat/completions, JSON or SSE (with
// stream_options.include_usage → a final usage chunk, then `data: [DONE]`), tool_calls, and
// response_format json_schema answered with JSON text, or a `refusal` instead of content. For
// `gemini-3*` models, Gemini's OpenAI-compatible endpoint: signed tool calls (openai-thought-signatures.ts).
import { type FakeAnswer, type RequestDigest, splitText, usageFor } from './answer.js';
import { FakeServer, type RecordedRequest, type Route } from './fake-server.js';
import type { Fault } from './faults.js';
import { signsToolCalls, thoughtSignatureFor, unsignedCallRefusal } from './openai-thought-signatures.js';
import type { SseEvent } from './sse.js';

interface OpenAIBody {
  model?: string;
  messages?: Array<{ role: string; content?: unknown }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  response_format?: { type: string; json_schema?: { schema?: Record<string, unknown> } };
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  429: 'rate_limit_exceeded',
  500: 'server_error',
  503: 'service_unavailable',
};

const FINISH = { stop: 'stop', length: 'length', tool_calls: 'tool_calls', content_filter: 'content_filter' } as const;

export class OpenAIFake extends FakeServer {
  protected readonly label = 'openai';
  private completionCount = 0;
  private includeUsage = new WeakMap<RequestDigest, boolean>();
  /**
   * Like a compatible server that does not know `stream_options`: a stream ends with [DONE] and never
   * a usage chunk, even when one was asked for. Cleared by reset().
   */
  ignoresStreamOptions = false;
  /**
   * How a stream numbers its tool calls. `sequential`: OpenAI's (each call its own `index`, its id and
   * name in its first delta, the arguments in pieces). `omitted`: Gemini's OpenAI-compatible endpoint
   * and Ollama before 0.5 — no `index` at all, each call whole in one delta. `reused`: vLLM's and
   * SGLang's parsers, proxies in front of Gemini — every call at index 0, each with its own id.
   * Cleared by reset().
   */
  toolCallIndexes: 'sequential' | 'omitted' | 'reused' = 'sequential';

  override reset(): void {
    super.reset();
    this.ignoresStreamOptions = false;
    this.toolCallIndexes = 'sequential';
  }

  protected route(request: RecordedRequest): Route | null {
    if (request.method !== 'POST' || request.path !== '/v1/chat/completions') return null;
    const body = (request.body ?? {}) as OpenAIBody;
    const messages = body.messages ?? [];
    const schema = body.response_format?.type === 'json_schema' ? body.response_format.json_schema?.schema : undefined;
    const cap = body.max_completion_tokens ?? body.max_tokens;
    const digest: RequestDigest = {
      model: body.model ?? 'gpt-unknown',
      lastUserText: lastUserText(messages),
      promptChars: JSON.stringify(messages).length,
      stream: body.stream === true,
      ...(schema ? { schema } : {}),
      ...(cap === undefined ? {} : { maxOutputTokens: cap }),
    };
    this.includeUsage.set(digest, body.stream_options?.include_usage === true);
    return { stream: digest.stream, digest };
  }

  /** Gemini 3 refuses a tool call sent back without its thought signature. */
  protected override refuse(request: RecordedRequest, route: Route) {
    if (!signsToolCalls(route.digest.model)) return undefined;
    return unsignedCallRefusal(((request.body ?? {}) as OpenAIBody).messages ?? []);
  }

  protected errorBody(status: number, message: string): unknown {
    return { error: { message, type: ERROR_TYPES[status] ?? 'api_error', param: null, code: null } };
  }

  /** OpenAI reports a failure mid-stream as a plain `data:` chunk holding an `error` object (no `event:`). */
  protected override streamErrorEvent(fault: Extract<Fault, { kind: 'stream_error' }>): SseEvent {
    const type = fault.errorType ?? 'server_error';
    return { data: { error: { message: fault.message ?? 'The server had an error', type, param: null, code: null } } };
  }

  protected renderJson(answer: FakeAnswer, route: Route): unknown {
    const text = answerText(answer);
    const calls = toolCalls(answer, route.digest.model);
    const usage = usageFor(answer, route.digest, text ?? JSON.stringify(calls));
    return {
      ...this.shell(answer, route.digest, 'chat.completion'),
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: answer.refusal === undefined ? (text ?? null) : null,
            refusal: answer.refusal ?? null,
            ...(calls.length ? { tool_calls: calls } : {}),
          },
          finish_reason: finishReason(answer),
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: usage.input,
        completion_tokens: usage.output,
        total_tokens: usage.input + usage.output,
        prompt_tokens_details: { cached_tokens: usage.cacheRead ?? 0 },
      },
    };
  }

  protected renderEvents(answer: FakeAnswer, route: Route): SseEvent[] {
    const shell = this.shell(answer, route.digest, 'chat.completion.chunk');
    const text = answerText(answer);
    const calls = toolCalls(answer, route.digest.model);
    const chunk = (delta: unknown, finish: string | null = null): SseEvent => ({
      data: { ...shell, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] },
    });
    const events: SseEvent[] = [];
    if (answer.refusal !== undefined) {
      // A refusal streams in `refusal` deltas; content stays null.
      events.push(chunk({ role: 'assistant', content: null, refusal: '' }));
      for (const piece of splitText(answer.refusal, answer.chunks)) events.push(chunk({ refusal: piece }));
    } else {
      events.push(chunk({ role: 'assistant', content: '', refusal: null }));
      for (const piece of text === undefined ? [] : splitText(text, answer.chunks))
        events.push(chunk({ content: piece }));
    }
    calls.forEach((call, position) => {
      // A signature (Gemini 3) comes in the call's first delta, with its id and name.
      const signed = call.extra_content ? { extra_content: call.extra_content } : {};
      if (this.toolCallIndexes === 'omitted') {
        events.push(chunk({ tool_calls: [{ id: call.id, type: 'function', function: call.function, ...signed }] }));
        return;
      }
      const index = this.toolCallIndexes === 'reused' ? 0 : position;
      const [first = '', ...rest] = splitText(call.function.arguments, 2);
      const name = call.function.name;
      events.push(
        chunk({
          tool_calls: [{ index, id: call.id, type: 'function', function: { name, arguments: first }, ...signed }],
        }),
      );
      for (const part of rest) events.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }));
    });
    events.push(chunk({}, finishReason(answer)));
    if (this.includeUsage.get(route.digest) && !this.ignoresStreamOptions) {
      const usage = usageFor(answer, route.digest, text ?? JSON.stringify(calls));
      events.push({
        data: {
          ...shell,
          choices: [],
          usage: {
            prompt_tokens: usage.input,
            completion_tokens: usage.output,
            total_tokens: usage.input + usage.output,
            prompt_tokens_details: { cached_tokens: usage.cacheRead ?? 0 },
          },
        },
      });
    }
    events.push({ data: '[DONE]' });
    return events;
  }

  private shell(answer: FakeAnswer, digest: RequestDigest, object: string) {
    this.completionCount += 1;
    return {
      id: `chatcmpl-fake-${this.completionCount}`,
      object,
      created: 1_700_000_000,
      model: answer.model ?? digest.model,
    };
  }
}

function answerText(answer: FakeAnswer): string | undefined {
  if (answer.text !== undefined) return answer.text;
  if (answer.json !== undefined) return JSON.stringify(answer.json);
  return answer.toolCalls?.length ? undefined : '';
}

function toolCalls(answer: FakeAnswer, model: string) {
  const calls = answer.toolCalls ?? [];
  return calls.map((call, i) => {
    const json = JSON.stringify(call.arguments);
    const cut = answer.cutArguments !== undefined && i === calls.length - 1;
    return {
      id: call.id ?? `call_fake_${i + 1}`,
      type: 'function' as const,
      function: { name: call.name, arguments: cut ? json.slice(0, answer.cutArguments) : json },
      ...(signsToolCalls(model)
        ? { extra_content: { google: { thought_signature: thoughtSignatureFor(call.name) } } }
        : {}),
    };
  });
}

function finishReason(answer: FakeAnswer): string {
  if (answer.finishReason) return FINISH[answer.finishReason];
  return answer.toolCalls?.length ? 'tool_calls' : 'stop';
}

function lastUserText(messages: NonNullable<OpenAIBody['messages']>): string {
  const last = [...messages].reverse().find((m) => m.role === 'user' || m.role === 'tool');
  if (!last) return '';
  return typeof last.content === 'string' ? last.content : JSON.stringify(last.content ?? '');
}
