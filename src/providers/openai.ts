// Any OpenAI-compatible chat completions endpoint (OpenAI, Ollama, vLLM, LM Studio) through the
// `openai` SDK, with its retries off and the caller's AbortSignal as the only deadline.
// Structured output is `response_format: json_schema`; the JSON text is parsed into `object`.
import OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions/completions.js';
import { estimateInputTokens } from '../budget/estimate.js';
import { MAX_TIMER_MS } from '../config/schema.js';
import {
  abortError,
  httpError,
  otherError,
  providerSecrets,
  scrub,
  transportError,
  truncatedStream,
} from './map-error.js';
import { thoughtSignatureOf, withThoughtSignature } from './openai-thought-signature.js';
import { ToolCallDeltas } from './openai-tool-deltas.js';
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
} from './provider.js';
import { kindFromStatus, ProviderError, type ProviderErrorKind, unusableToolArguments } from './provider-error.js';
import { clientHeaders } from './sdk-env.js';
import { sdkLogOptions } from './sdk-log.js';
import { objectRootSchema, parseJsonText, STRUCTURED_OUTPUT_NAME } from './structured-schema.js';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';
/** What the SDK requires as a key when the server needs none (Ollama, vLLM): it is sent and ignored. */
const NO_KEY_PLACEHOLDER = 'no-key';
/**
 * The SDK's own deadline (10 minutes by default), pushed past any timeout a pipeline may set (the
 * longest timer Node.js holds): ours, the AbortSignal, decides.
 */
const SDK_TIMEOUT_MS = MAX_TIMER_MS;

export interface OpenAIProviderOptions {
  name?: string;
  /** Omitted for servers that need no key. */
  apiKey?: string;
  baseUrl?: string;
  /** The HTTP client (a pooled, keep-alive fetch: see resilience/connection-pool.ts). */
  fetch?: typeof fetch;
  /**
   * The operator's OPENAI_CUSTOM_HEADERS, OPENAI_ORG_ID and OPENAI_PROJECT_ID, from the engine's Env
   * (settings.ts: for the operator's endpoint only).
   */
  headers?: Readonly<Record<string, string>>;
  organization?: string;
  project?: string;
}

export class OpenAIProvider implements Provider {
  readonly name: string;
  private readonly client: OpenAI;
  /** Scrubbed from every error: the key, and the custom headers' values (a gateway's credential). */
  private readonly secrets: string[];
  /** OpenAI itself wants max_completion_tokens (reasoning models refuse max_tokens); compatible servers know max_tokens. */
  private readonly isOpenAI: boolean;

  constructor(options: OpenAIProviderOptions) {
    this.name = options.name ?? 'openai';
    this.secrets = providerSecrets(options.apiKey, options.headers);
    const baseURL = options.baseUrl ?? OPENAI_DEFAULT_BASE_URL;
    this.isOpenAI = new URL(baseURL).hostname === 'api.openai.com';
    // Everything the SDK would read from process.env is passed (sdk-env.ts): the engine's Env decides.
    this.client = new OpenAI({
      apiKey: options.apiKey ?? NO_KEY_PLACEHOLDER,
      adminAPIKey: null,
      organization: options.organization ?? null,
      project: options.project ?? null,
      webhookSecret: null,
      baseURL,
      defaultHeaders: clientHeaders('OPENAI_CUSTOM_HEADERS', options.headers),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      maxRetries: 0,
      timeout: SDK_TIMEOUT_MS,
      // A malformed chunk is our invalid_response error, not a console.error line in the CLI's output.
      ...sdkLogOptions('OPENAI_LOG'),
    });
  }

  capabilities(): Capabilities {
    return { ...VENDOR_CAPABILITIES };
  }

  supports(feature: ProviderFeature): boolean {
    return capabilitySupports(VENDOR_CAPABILITIES, feature);
  }

  async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const { params, unwrap } = this.toParams(request);
    let completion: ChatCompletion;
    try {
      completion = await this.client.chat.completions.create(params, { signal });
    } catch (err) {
      throw this.mapError(err, signal);
    }
    const choice = completion.choices[0];
    if (!choice) throw new ProviderError(this.name, 'invalid_response', 'the answer has no choices');
    return this.toResponse(
      {
        text: choice.message.content ?? '',
        refusal: choice.message.refusal ?? '',
        toolCalls: (choice.message.tool_calls ?? []).flatMap((c) => {
          if (c.type !== 'function') return [];
          const signature = thoughtSignatureOf(c);
          return [{ id: c.id, name: c.function.name, args: c.function.arguments, ...(signature ? { signature } : {}) }];
        }),
        finish: choice.finish_reason,
        usage: completion.usage,
        model: completion.model,
      },
      request,
      unwrap,
    );
  }

  async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    const { params, unwrap } = this.toParams(request);
    let text = '';
    let refusal = '';
    const calls = new ToolCallDeltas();
    let finish: string | null = null;
    let usage: ChatCompletion['usage'];
    let model = request.model;
    try {
      const chunks = await this.client.chat.completions.create(
        { ...params, stream: true, stream_options: { include_usage: true } },
        { signal },
      );
      for await (const chunk of chunks as AsyncIterable<ChatCompletionChunk>) {
        model = chunk.model || model;
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices[0];
        if (!choice) continue;
        // Numbered by `index` or not, as the server does (openai-tool-deltas.ts).
        for (const delta of choice.delta.tool_calls ?? []) calls.add(delta);
        if (choice.finish_reason) finish = choice.finish_reason;
        if (choice.delta.refusal) refusal += choice.delta.refusal;
        const piece = choice.delta.content;
        if (piece) {
          text += piece;
          yield { type: 'text', text: piece };
        }
      }
    } catch (err) {
      throw this.mapError(err, signal);
    }
    // Without a finish_reason the answer was cut off, even if the body ended cleanly.
    if (finish === null) {
      // The SDK ends its stream quietly when the request is aborted: that is a cancellation or a
      // deadline, not a cut-off connection.
      if (signal.aborted) throw abortError(this.name, signal);
      throw truncatedStream(this.name, 'a finish_reason');
    }
    // We ask for usage (stream_options.include_usage), and OpenAI always sends it: a chunk after the
    // one with the finish_reason, then [DONE]. Without it the stream was cut off after the answer —
    // retryable, like any cut-off stream, rather than a call recorded as free. A compatible server
    // may ignore stream_options (never sending usage): there the usage is estimated and flagged.
    if (!usage && this.isOpenAI) throw truncatedStream(this.name, 'the usage chunk');
    yield {
      type: 'done',
      response: this.toResponse({ text, refusal, toolCalls: calls.calls, finish, usage, model }, request, unwrap),
    };
  }

  private toParams(request: ModelRequest) {
    let unwrap: ((v: unknown) => unknown) | undefined;
    let responseFormat: ChatCompletionCreateParamsNonStreaming['response_format'];
    if (request.schema) {
      const root = objectRootSchema(request.schema);
      unwrap = root.unwrap;
      // strict: false — strict mode demands additionalProperties:false and every key required, which
      // a user's schema need not say; validation (and repair) happens above us with ajv.
      responseFormat = {
        type: 'json_schema',
        json_schema: { name: STRUCTURED_OUTPUT_NAME, schema: root.schema, strict: false },
      };
    }
    const tools: ChatCompletionTool[] = (request.tools ?? []).map((t) => ({
      type: 'function',
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
    const maxTokens =
      request.maxTokens === undefined
        ? {}
        : this.isOpenAI
          ? { max_completion_tokens: request.maxTokens }
          : { max_tokens: request.maxTokens };
    let extra = request.extra as Partial<ChatCompletionCreateParamsNonStreaming> | undefined;
    if (extra && request.maxTokens !== undefined && ('max_tokens' in extra || 'max_completion_tokens' in extra)) {
      // The request's cap is the one cap sent (a budget's estimate reads it): no second one from the extras.
      const { max_tokens: _a, max_completion_tokens: _b, ...rest } = extra;
      extra = rest;
    }
    const params: ChatCompletionCreateParamsNonStreaming = {
      ...extra,
      model: request.model,
      messages: toMessages(request.system, request.messages),
      ...maxTokens,
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.topP === undefined ? {} : { top_p: request.topP }),
      ...(request.stop?.length ? { stop: request.stop } : {}),
      ...(tools.length ? { tools } : {}),
      ...(responseFormat ? { response_format: responseFormat } : {}),
    };
    return { params, unwrap };
  }

  private toResponse(
    raw: {
      text: string;
      /** The model's refusal (structured outputs), '' when none. */
      refusal: string;
      toolCalls: Array<{ id: string; name: string; args: string; signature?: string }>;
      finish: string | null;
      usage: ChatCompletion['usage'];
      model: string;
    },
    request: ModelRequest,
    unwrap: ((v: unknown) => unknown) | undefined,
  ): ModelResponse {
    // The first call whose arguments are not JSON: the answer is unusable, but answered and billed.
    let unparsable: string | undefined;
    const toolCalls: ToolCall[] = raw.toolCalls.map((c) => {
      const args = parseArgs(c.args);
      if (args === undefined) unparsable ??= c.name;
      return { id: c.id, name: c.name, arguments: args ?? {}, ...(c.signature ? { signature: c.signature } : {}) };
    });
    const usage: Usage = raw.usage
      ? {
          inputTokens: raw.usage.prompt_tokens ?? 0,
          outputTokens: raw.usage.completion_tokens ?? 0,
          ...(raw.usage.prompt_tokens_details?.cached_tokens
            ? { cacheReadTokens: raw.usage.prompt_tokens_details.cached_tokens }
            : {}),
        }
      : estimatedUsage(request, raw.text || raw.refusal, toolCalls);
    // Cut off by max_tokens (finish_reason `length`): not retried, the same request is cut the same way.
    if (unparsable !== undefined) {
      throw unusableToolArguments(this.name, unparsable, raw.finish === 'length', usage, request.maxTokens);
    }
    const response: ModelResponse = {
      text: raw.text,
      toolCalls,
      usage,
      // A refusal is not an answer that finished normally, whatever finish_reason says ('stop').
      finishReason: raw.refusal ? 'content_filter' : finishReason(raw.finish),
      model: raw.model,
      ...(raw.refusal ? { refusal: raw.refusal } : {}),
    };
    if (request.schema && toolCalls.length === 0) {
      const parsed = parseJsonText(raw.text);
      if (parsed !== undefined) response.object = unwrap ? unwrap(parsed) : parsed;
    }
    return response;
  }

  private mapError(err: unknown, signal: AbortSignal): ProviderError {
    if (err instanceof ProviderError) return err;
    if (signal.aborted || err instanceof OpenAI.APIUserAbortError) return abortError(this.name, signal, err);
    const secrets = this.secrets;
    // No answer over the network: by class — openai's errors have no name, and the timeout one
    // ("Request timed out.") no cause either.
    if (err instanceof OpenAI.APIConnectionError) {
      return transportError(this.name, err, secrets, err instanceof OpenAI.APIConnectionTimeoutError);
    }
    if (err instanceof OpenAI.APIError) {
      const code = typeof err.code === 'string' ? err.code : undefined;
      if (err.status === undefined) {
        // An `error` chunk inside a 200 stream: its type (or code) says what happened.
        return new ProviderError(this.name, streamErrorKind(err), `stream error: ${scrub(err.message, secrets)}`);
      }
      return httpError(
        this.name,
        {
          status: err.status,
          message: err.message,
          headers: (n) => err.headers?.get(n),
          // A 429 that is an empty account, not a busy minute: waiting will not help.
          ...(code === 'insufficient_quota' ? { kind: 'auth' as const } : {}),
        },
        secrets,
        err,
      );
    }
    return otherError(this.name, err, secrets);
  }
}

/** Error types and codes of OpenAI-compatible error bodies, as sent inside a stream. */
const STREAM_ERROR_KINDS: Record<string, ProviderErrorKind> = {
  server_error: 'server',
  service_unavailable: 'overloaded',
  rate_limit_exceeded: 'rate_limited',
  requests: 'rate_limited',
  tokens: 'rate_limited',
  insufficient_quota: 'auth',
  invalid_api_key: 'auth',
  authentication_error: 'auth',
  invalid_request_error: 'bad_request',
  context_length_exceeded: 'bad_request',
};

/** The kind of an error reported mid-stream: by code, then type (vLLM sends an HTTP status as `code`); else a server fault. */
function streamErrorKind(err: InstanceType<typeof OpenAI.APIError>): ProviderErrorKind {
  const { code, type } = err as { code?: unknown; type?: unknown };
  if (typeof code === 'number' && code >= 400 && code < 600) return kindFromStatus(code);
  if (typeof code === 'string' && STREAM_ERROR_KINDS[code]) return STREAM_ERROR_KINDS[code];
  if (typeof type === 'string' && STREAM_ERROR_KINDS[type]) return STREAM_ERROR_KINDS[type];
  return 'server';
}

function toMessages(system: string | undefined, messages: ChatMessage[]): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = system ? [{ role: 'system', content: system }] : [];
  for (const m of messages) {
    if (m.role === 'user') out.push({ role: 'user', content: m.content });
    else if (m.role === 'tool') {
      out.push({ role: 'tool', tool_call_id: m.toolCallId, content: m.isError ? `ERROR: ${m.content}` : m.content });
    } else {
      out.push({
        role: 'assistant',
        content: m.content || null,
        ...(m.toolCalls?.length
          ? {
              tool_calls: m.toolCalls.map((c) => ({
                id: c.id,
                type: 'function' as const,
                function: { name: c.name, arguments: JSON.stringify(c.arguments) },
                // Gemini's, back on the call it came with (openai-thought-signature.ts).
                ...withThoughtSignature(c.signature),
              })),
            }
          : {}),
      });
    }
  }
  return out;
}

/**
 * The usage of a call whose server reported none: the prompt and the answer counted as the budget
 * counts a prompt (src/budget/estimate.ts), flagged `estimated` — an approximate price, not $0.
 */
function estimatedUsage(request: ModelRequest, answer: string, toolCalls: ToolCall[]): Usage {
  const output = estimateInputTokens({
    provider: request.provider,
    model: request.model,
    messages: [{ role: 'assistant', content: answer, ...(toolCalls.length ? { toolCalls } : {}) }],
  });
  return { inputTokens: estimateInputTokens(request), outputTokens: Math.max(1, output), estimated: true };
}

/** A tool call's arguments: {} when empty, undefined when not JSON (cut off, or malformed). */
function parseArgs(args: string): Record<string, unknown> | undefined {
  if (!args.trim()) return {};
  try {
    return JSON.parse(args) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function finishReason(reason: string | null): FinishReason {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'other';
  }
}
