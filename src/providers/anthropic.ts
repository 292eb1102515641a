// Claude through `@anthropic-ai/sdk` (Messages API). The SDK's retries are off (our gate retries) and
// its own timeout is pushed far out of the way: the caller's AbortSignal is the deadline.
// Structured output is forced tool use: one tool whose input_schema is the schema — except with
// extended thinking, which the API allows only with tool_choice auto (or none): the model is then
// told to answer with the tool, and a JSON answer in text is taken too.
import Anthropic from '@anthropic-ai/sdk';
import type {
  Message as AnthropicMessage,
  Tool as AnthropicTool,
  ContentBlock,
  ContentBlockParam,
  MessageCreateParamsNonStreaming,
  MessageParam,
  RawMessageStreamEvent,
} from '@anthropic-ai/sdk/resources/messages/messages.js';
import { MAX_TIMER_MS } from '../config/schema.js';
import { cacheWrite1hOf } from './anthropic-usage.js';
import {
  abortError,
  httpError,
  otherError,
  providerSecrets,
  scrub,
  transportError,
  truncatedStream,
} from './map-error.js';
import {
  type Capabilities,
  type ChatMessage,
  capabilitySupports,
  type FinishReason,
  type ModelRequest,
  type ModelResponse,
  type Provider,
  type ProviderFeature,
  type StreamChunk,
  type ToolCall,
  type Usage,
  VENDOR_CAPABILITIES,
  type VendorTurn,
} from './provider.js';
import { ProviderError, type ProviderErrorKind, unusableToolArguments } from './provider-error.js';
import { clientHeaders } from './sdk-env.js';
import { sdkLogOptions } from './sdk-log.js';
import {
  objectRootSchema,
  parseJsonText,
  STRUCTURED_OUTPUT_DESCRIPTION,
  STRUCTURED_OUTPUT_NAME,
} from './structured-schema.js';
import { thinkingBudgetOf } from './thinking-budget.js';

export interface AnthropicProviderOptions {
  name?: string;
  apiKey: string;
  baseUrl?: string;
  /** The HTTP client (a pooled, keep-alive fetch: see resilience/connection-pool.ts). */
  fetch?: typeof fetch;
  /** Headers for every request: the operator's ANTHROPIC_CUSTOM_HEADERS, from the engine's Env (settings.ts). */
  headers?: Readonly<Record<string, string>>;
}

/** The Messages API's own endpoint, passed explicitly: the SDK would take ANTHROPIC_BASE_URL from process.env. */
export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';

/** Claude requires max_tokens; this is used when the step sets none. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;
/**
 * With extended thinking the tool cannot be forced (the API refuses `tool_choice` `tool` or `any`
 * together with thinking: "Thinking may not be enabled when tool_choice forces tool use"): the
 * model is asked, in the system prompt, to answer through it.
 */
export const STRUCTURED_OUTPUT_INSTRUCTION = `Give your final answer by calling the ${STRUCTURED_OUTPUT_NAME} tool: its input is the answer, exactly matching the tool's schema. Do not write the answer as text.`;

/**
 * The SDK's own deadline (10 minutes by default), pushed past any timeout a pipeline may set (the
 * longest timer Node.js holds): ours, the AbortSignal, decides.
 */
const SDK_TIMEOUT_MS = MAX_TIMER_MS;

/** Error types of Anthropic's error body (also sent as a mid-stream `error` event). */
const ERROR_TYPE_KINDS: Record<string, ProviderErrorKind> = {
  overloaded_error: 'overloaded',
  rate_limit_error: 'rate_limited',
  api_error: 'server',
  timeout_error: 'timeout',
  authentication_error: 'auth',
  permission_error: 'auth',
  billing_error: 'auth',
  invalid_request_error: 'bad_request',
  not_found_error: 'bad_request',
  request_too_large: 'bad_request',
};

export class AnthropicProvider implements Provider {
  readonly name: string;
  private readonly client: Anthropic;
  /** Scrubbed from every error: the key, and the custom headers' values (a gateway's credential). */
  private readonly secrets: string[];

  constructor(options: AnthropicProviderOptions) {
    this.name = options.name ?? 'anthropic';
    this.secrets = providerSecrets(options.apiKey, options.headers);
    // Everything the SDK would read from process.env is passed (sdk-env.ts): the engine's Env decides.
    this.client = new Anthropic({
      apiKey: options.apiKey,
      authToken: null,
      webhookKey: null,
      baseURL: options.baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL,
      defaultHeaders: clientHeaders('ANTHROPIC_CUSTOM_HEADERS', options.headers),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      maxRetries: 0,
      timeout: SDK_TIMEOUT_MS,
      // A malformed chunk is our invalid_response error, not a console.error line in the CLI's output.
      ...sdkLogOptions('ANTHROPIC_LOG'),
    });
  }

  capabilities(): Capabilities {
    return { ...VENDOR_CAPABILITIES };
  }

  supports(feature: ProviderFeature): boolean {
    return capabilitySupports(VENDOR_CAPABILITIES, feature);
  }

  async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const { params, unwrap } = toParams(request);
    let message: AnthropicMessage;
    try {
      message = await this.client.messages.create(params, { signal });
    } catch (err) {
      throw this.mapError(err, signal);
    }
    const response = fromMessage(message, request, unwrap);
    throwIfToolInputCut(this.name, message, params.max_tokens, response);
    return response;
  }

  async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    const { params, unwrap } = toParams(request);
    const acc = new StreamAccumulator();
    try {
      const events = await this.client.messages.create({ ...params, stream: true }, { signal });
      for await (const event of events) {
        const text = acc.add(event);
        if (text) yield { type: 'text', text };
      }
    } catch (err) {
      throw this.mapError(err, signal);
    }
    if (!acc.stopped) {
      // The SDK ends its stream quietly when the request is aborted: that is a cancellation or a
      // deadline, not a cut-off connection.
      if (signal.aborted) throw abortError(this.name, signal);
      throw truncatedStream(this.name, 'message_stop');
    }
    if (!acc.started) throw new ProviderError(this.name, 'invalid_response', 'the stream had no message_start');
    const response = fromMessage(acc.message(), request, unwrap);
    // A tool input that is not JSON: cut off by max_tokens (not retried: the same request is cut the
    // same way) or malformed. The answer was billed either way: the error carries its usage. One cut
    // off by a refusal is neither: the refusal is the answer.
    if (acc.unparsable !== undefined && response.refusal === undefined) {
      const cut = response.finishReason === 'length';
      throw unusableToolArguments(this.name, acc.unparsable, cut, response.usage, params.max_tokens);
    }
    throwIfToolInputCut(this.name, acc.message(), params.max_tokens, response);
    yield { type: 'done', response };
  }

  private mapError(err: unknown, signal: AbortSignal): ProviderError {
    if (err instanceof ProviderError) return err;
    if (signal.aborted || err instanceof Anthropic.APIUserAbortError) return abortError(this.name, signal, err);
    const secrets = this.secrets;
    // No answer over the network: by class, not by wording (the timeout one carries no cause).
    if (err instanceof Anthropic.APIConnectionError) {
      return transportError(this.name, err, secrets, err instanceof Anthropic.APIConnectionTimeoutError);
    }
    if (err instanceof Anthropic.APIError) {
      if (err.status === undefined) {
        // An `error` event inside a 200 stream: only the error type says what happened.
        const kind = ERROR_TYPE_KINDS[err.type ?? ''] ?? 'server';
        return new ProviderError(this.name, kind, `stream error: ${scrub(err.message, this.secrets)}`);
      }
      // The body's word wins when it blames the key or the account (a billing_error a gateway sends
      // as a 400): not a bad request, the operator's to fix — as for the same type mid-stream.
      const blamesKey = ERROR_TYPE_KINDS[err.type ?? ''] === 'auth';
      return httpError(
        this.name,
        {
          status: err.status,
          message: err.message,
          headers: (n) => err.headers?.get(n),
          ...(blamesKey ? { kind: 'auth' as const } : {}),
        },
        secrets,
        err,
      );
    }
    return otherError(this.name, err, secrets);
  }
}

interface Converted {
  params: MessageCreateParamsNonStreaming;
  unwrap: ((value: unknown) => unknown) | undefined;
}

function toParams(request: ModelRequest): Converted {
  const tools: AnthropicTool[] = (request.tools ?? []).map((t) => ({
    name: t.name,
    description: t.description,
    input_schema: t.parameters as AnthropicTool['input_schema'],
  }));
  const extra = request.extra as Partial<MessageCreateParamsNonStreaming> | undefined;
  let unwrap: Converted['unwrap'];
  let toolChoice: MessageCreateParamsNonStreaming['tool_choice'];
  let system: MessageCreateParamsNonStreaming['system'] = request.system || extra?.system;
  if (request.schema) {
    const root = objectRootSchema(request.schema);
    unwrap = root.unwrap;
    tools.push({
      name: STRUCTURED_OUTPUT_NAME,
      description: STRUCTURED_OUTPUT_DESCRIPTION,
      input_schema: root.schema as AnthropicTool['input_schema'],
    });
    if (thinkingEnabled(extra?.thinking)) {
      // Thinking allows no forced tool use (400): the model is told to answer with the tool, and
      // may still answer in text (then its JSON is taken, or the call loop repairs).
      toolChoice = { type: 'auto' };
      system = withInstruction(system, STRUCTURED_OUTPUT_INSTRUCTION);
    } else {
      // With tools of its own the model may call them first; it must end with the output tool.
      toolChoice = request.tools?.length ? { type: 'any' } : { type: 'tool', name: STRUCTURED_OUTPUT_NAME };
    }
  }
  const params: MessageCreateParamsNonStreaming = {
    ...extra,
    model: request.model,
    max_tokens: request.maxTokens ?? defaultMaxTokens(extra),
    messages: toMessages(request.messages),
    ...(system ? { system } : {}),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.topP === undefined ? {} : { top_p: request.topP }),
    ...(request.stop?.length ? { stop_sequences: request.stop } : {}),
    ...(tools.length ? { tools } : {}),
    ...(toolChoice ? { tool_choice: toolChoice } : {}),
  };
  return { params, unwrap };
}

/**
 * The max_tokens of a request that sets none (the API requires one): a `max_tokens` of the extras
 * (the cap the budget estimate reads), else the default — after the thinking budget, if any: the
 * API refuses max_tokens not above `thinking.budget_tokens`, thinking being counted in it.
 */
function defaultMaxTokens(extra: Partial<MessageCreateParamsNonStreaming> | undefined): number {
  const own = extra?.max_tokens;
  if (typeof own === 'number' && own > 0) return own;
  return ANTHROPIC_DEFAULT_MAX_TOKENS + thinkingBudgetOf(extra?.thinking);
}

/** Whether the request's `thinking` turns extended thinking on (`enabled`, `adaptive` …: anything but `disabled`). */
function thinkingEnabled(thinking: unknown): boolean {
  const type = (thinking as { type?: unknown } | null | undefined)?.type;
  return typeof type === 'string' && type !== 'disabled';
}

/** The system prompt (text, or blocks from the request's extras) with `instruction` after it. */
function withInstruction(
  system: MessageCreateParamsNonStreaming['system'],
  instruction: string,
): NonNullable<MessageCreateParamsNonStreaming['system']> {
  if (!system) return instruction;
  if (typeof system === 'string') return `${system}\n\n${instruction}`;
  return [...system, { type: 'text', text: instruction }];
}

/** Neutral messages → Anthropic turns; tool results travel in the next user turn, consecutive user turns merge. */
function toMessages(messages: ChatMessage[]): MessageParam[] {
  const out: MessageParam[] = [];
  const push = (role: 'user' | 'assistant', blocks: ContentBlockParam[]) => {
    const last = out[out.length - 1];
    if (last && last.role === role && Array.isArray(last.content)) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const m of messages) {
    if (m.role === 'user') push('user', [{ type: 'text', text: m.content }]);
    else if (m.role === 'tool') {
      push('user', [
        {
          type: 'tool_result',
          tool_use_id: m.toolCallId,
          content: m.content,
          ...(m.isError ? { is_error: true } : {}),
        },
      ]);
    } else if (m.vendorTurn?.protocol === 'anthropic') {
      // The turn as the API sent it: thinking blocks unmodified, in their original order (a copy:
      // merging turns must not touch the message, which the journal and the cache key hold).
      push('assistant', [...(m.vendorTurn.blocks as ContentBlockParam[])]);
    } else {
      const blocks: ContentBlockParam[] = m.content ? [{ type: 'text', text: m.content }] : [];
      for (const call of m.toolCalls ?? [])
        blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: call.arguments });
      push('assistant', blocks);
    }
  }
  return out;
}

function fromMessage(message: AnthropicMessage, request: ModelRequest, unwrap: Converted['unwrap']): ModelResponse {
  let text = '';
  const toolCalls: ToolCall[] = [];
  let output: { value: unknown } | undefined;
  for (const block of message.content) {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'tool_use') {
      const input = (block.input ?? {}) as Record<string, unknown>;
      if (request.schema && block.name === STRUCTURED_OUTPUT_NAME) output = { value: unwrap ? unwrap(input) : input };
      else toolCalls.push({ id: block.id, name: block.name, arguments: input });
    }
  }
  // Anthropic counts cache reads/writes apart from input_tokens; our inputTokens is the whole prompt.
  const cacheRead = message.usage.cache_read_input_tokens ?? 0;
  const cacheWrite = message.usage.cache_creation_input_tokens ?? 0;
  // Of the writes, the 1-hour ones: priced at their own rate (kept only when there are some).
  const cacheWrite1h = Math.min(cacheWrite1hOf(message.usage), cacheWrite);
  const usage: Usage = {
    inputTokens: (message.usage.input_tokens ?? 0) + cacheRead + cacheWrite,
    outputTokens: message.usage.output_tokens ?? 0,
    ...(message.usage.cache_read_input_tokens == null
      ? {}
      : { cacheReadTokens: message.usage.cache_read_input_tokens }),
    ...(message.usage.cache_creation_input_tokens == null
      ? {}
      : { cacheWriteTokens: message.usage.cache_creation_input_tokens }),
    ...(cacheWrite1h > 0 ? { cacheWrite1hTokens: cacheWrite1h } : {}),
  };
  const turn = vendorTurn(message.content);
  const base = { usage, model: message.model, ...(turn ? { vendorTurn: turn } : {}) };
  if (message.stop_reason === 'refusal') {
    // Claude declined (its classifiers stopped the answer): what it wrote is cut off, any tool input
    // too. The model's final word, as OpenAI's `refusal` is — not an answer, nor one to repair.
    const refusal = message.stop_details?.explanation ?? '';
    return { ...base, text, toolCalls: [], finishReason: 'content_filter', refusal };
  }
  if (output) {
    // The forced tool call *is* the answer: it ends the turn, whatever the stop reason says.
    return { ...base, text: JSON.stringify(output.value), object: output.value, toolCalls: [], finishReason: 'stop' };
  }
  if (request.schema && toolCalls.length === 0) {
    // The tool was not forced (extended thinking) and the model answered in text: its JSON, if the
    // text is JSON, is the answer; else no object, and the call loop re-asks (a repair).
    const parsed = parseJsonText(text);
    if (parsed !== undefined) {
      const object = unwrap ? unwrap(parsed) : parsed;
      return { ...base, text, object, toolCalls, finishReason: finishReason(message.stop_reason) };
    }
  }
  return { ...base, text, toolCalls, finishReason: finishReason(message.stop_reason) };
}

/**
 * With extended thinking, the turn must go back with its thinking blocks (signatures intact) before
 * its tool_use blocks, or the API refuses the tool results (400). Only then is the turn kept as sent,
 * in request shape; a turn without thinking is rebuilt from text and tool calls as before.
 */
function vendorTurn(content: ContentBlock[]): VendorTurn | undefined {
  if (!content.some((b) => b.type === 'thinking' || b.type === 'redacted_thinking')) return undefined;
  const blocks: ContentBlockParam[] = [];
  for (const block of content) {
    if (block.type === 'thinking') {
      blocks.push({ type: 'thinking', thinking: block.thinking, signature: block.signature });
    } else if (block.type === 'redacted_thinking') blocks.push({ type: 'redacted_thinking', data: block.data });
    else if (block.type === 'text') blocks.push({ type: 'text', text: block.text });
    else if (block.type === 'tool_use')
      blocks.push({ type: 'tool_use', id: block.id, name: block.name, input: block.input });
  }
  return { protocol: 'anthropic', blocks };
}

/**
 * An answer that hit max_tokens while the model wrote a tool call's input (the last block is that
 * tool_use): the input is cut off. A non-streamed answer still carries it parsed — the API keeps the
 * parameters it completed and drops the one it was writing — so it looks whole, a structured answer
 * too. It is `output_limit` (not retried: the same request is cut the same way), billed.
 */
function throwIfToolInputCut(provider: string, message: AnthropicMessage, cap: number, response: ModelResponse): void {
  if (finishReason(message.stop_reason) !== 'length') return;
  const last = message.content[message.content.length - 1];
  if (last?.type !== 'tool_use') return;
  throw unusableToolArguments(provider, last.name, true, response.usage, cap);
}

function finishReason(reason: AnthropicMessage['stop_reason']): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'other';
  }
}

/** Rebuilds the final Message from raw stream events; `stopped` only after message_stop. */
class StreamAccumulator {
  stopped = false;
  started: AnthropicMessage | undefined;
  private readonly blocks: ContentBlock[] = [];
  private readonly partialJson = new Map<number, string>();
  /** The first tool_use block whose input is not JSON (its stop_reason, known later, says why). */
  unparsable: string | undefined;

  /** Feeds one event; returns the text it adds, if any. */
  add(event: RawMessageStreamEvent): string | undefined {
    switch (event.type) {
      case 'message_start':
        this.started = { ...event.message, content: [] };
        return undefined;
      case 'content_block_start':
        this.blocks[event.index] = { ...event.content_block } as ContentBlock;
        return undefined;
      case 'content_block_delta': {
        const block = this.blocks[event.index];
        if (event.delta.type === 'text_delta' && block?.type === 'text') {
          block.text += event.delta.text;
          return event.delta.text;
        }
        if (event.delta.type === 'input_json_delta') {
          this.partialJson.set(event.index, (this.partialJson.get(event.index) ?? '') + event.delta.partial_json);
        }
        // Thinking is never emitted as text: it is kept, with its signature, to be sent back.
        if (event.delta.type === 'thinking_delta' && block?.type === 'thinking') {
          block.thinking = (block.thinking ?? '') + event.delta.thinking;
        }
        if (event.delta.type === 'signature_delta' && block?.type === 'thinking') {
          block.signature = (block.signature ?? '') + event.delta.signature;
        }
        return undefined;
      }
      case 'content_block_stop': {
        const block = this.blocks[event.index];
        const json = this.partialJson.get(event.index);
        if (block?.type === 'tool_use') {
          try {
            block.input = json ? JSON.parse(json) : {};
          } catch {
            block.input = {};
            this.unparsable ??= block.name;
          }
        }
        return undefined;
      }
      case 'message_delta':
        if (this.started) {
          this.started.stop_reason = event.delta.stop_reason;
          this.started.stop_sequence = event.delta.stop_sequence;
          this.started.stop_details = event.delta.stop_details ?? null;
          const u = event.usage;
          this.started.usage = {
            ...this.started.usage,
            output_tokens: u.output_tokens,
            ...(u.input_tokens == null ? {} : { input_tokens: u.input_tokens }),
            ...(u.cache_read_input_tokens == null ? {} : { cache_read_input_tokens: u.cache_read_input_tokens }),
            ...(u.cache_creation_input_tokens == null
              ? {}
              : { cache_creation_input_tokens: u.cache_creation_input_tokens }),
          };
        }
        return undefined;
      case 'message_stop':
        this.stopped = true;
        return undefined;
      default:
        return undefined;
    }
  }

  message(): AnthropicMessage {
    if (!this.started) throw new Error('message() before message_start');
    return { ...this.started, content: this.blocks.filter(Boolean) };
  }
}
