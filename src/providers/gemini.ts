// Gemini through `@google/genai` (Gemini API, never Vertex: `vertexai: false`, whatever
// GOOGLE_GENAI_USE_VERTEXAI says — see sdk-env.ts). No SDK retries (no retryOptions), no SDK
// timeout (it sets none by default), the caller's AbortSignal goes in `config.abortSignal`.
// Structured output is responseMimeType application/json + responseJsonSchema (before Gemini 3 with
// tools, an instruction: gemini-structured.ts); the JSON text is parsed into `object`.
//
// Inside one call the SDK (2.x) may make more requests of its own:
// - automatic continuation, on by default and left on: an answer that ends at a checkpoint
//   (finishReason CONTINUATION with a continuationToken) is requested again with the token until
//   the model finishes, and a stream that drops after a checkpoint is reopened from it. It is the
//   API's protocol for long answers: turned off, such an answer would come back cut short. The SDK
//   sums the usage of every request into the answer's, so the bill is whole; what the gate sees is
//   one attempt (one slot, one place in the rate window, one timeout) for the whole answer;
// - automatic function calling: when `config.tools` holds a CallableTool (an object with
//   `callTool()`), the SDK runs it and asks again, up to ten times — a tool loop outside the
//   engine's (src/llm), its calls unjournaled. Our tools are plain declarations, but a CallableTool
//   passed in `request.extra` could start it: off (`automaticFunctionCalling: { disable: true }`),
//   set after `request.extra`, which cannot turn it back on.
import {
  ApiError,
  type Content,
  type GenerateContentConfig,
  type GenerateContentResponse,
  GoogleGenAI,
  type Part,
} from '@google/genai';
import { errorMessage, kindFromBody, retryDelayFromBody } from './gemini-errors.js';
import { structuredConfig } from './gemini-structured.js';
import { abortError, httpError, otherError, truncatedStream } from './map-error.js';
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
import { ProviderError } from './provider-error.js';
import { parseJsonText } from './structured-schema.js';

/** Gemini may return function calls without ids; ours carry this prefix and are not sent back. */
const LOCAL_ID_PREFIX = 'gemini-call-';

export interface GeminiProviderOptions {
  name?: string;
  apiKey: string;
  baseUrl?: string;
  /** The HTTP client (a pooled, keep-alive fetch: see resilience/connection-pool.ts). */
  fetch?: typeof fetch;
}

/** The Gemini API's own endpoint, passed explicitly: the SDK would take GOOGLE_GEMINI_BASE_URL from process.env. */
export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com/';

/** The headers of the last HTTP answer of one call: the SDK's ApiError keeps only the status. */
interface HeaderTap {
  headers: Headers | undefined;
  fetch: typeof fetch;
}

export class GeminiProvider implements Provider {
  readonly name: string;
  private readonly client: GoogleGenAI;
  private readonly apiKey: string;
  private readonly fetch: typeof fetch;

  constructor(options: GeminiProviderOptions) {
    this.name = options.name ?? 'gemini';
    this.apiKey = options.apiKey;
    this.fetch = options.fetch ?? fetch;
    // Everything the SDK would read from process.env is passed (sdk-env.ts): the engine's Env decides.
    this.client = new GoogleGenAI({
      vertexai: false,
      apiKey: options.apiKey,
      httpOptions: { baseUrl: options.baseUrl ?? GEMINI_DEFAULT_BASE_URL },
    });
  }

  capabilities(): Capabilities {
    return { ...VENDOR_CAPABILITIES };
  }

  supports(feature: ProviderFeature): boolean {
    return capabilitySupports(VENDOR_CAPABILITIES, feature);
  }

  async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const tap = headerTap(this.fetch);
    let response: GenerateContentResponse;
    try {
      response = await this.client.models.generateContent(toParams(request, signal, tap));
    } catch (err) {
      throw this.mapError(err, signal, tap);
    }
    const acc = new ResponseAccumulator();
    acc.add(response);
    return acc.result(this.name, request);
  }

  async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    const tap = headerTap(this.fetch);
    const acc = new ResponseAccumulator();
    // A consumer that stops reading (a `break`, a throw in its loop) leaves the SDK's stream with
    // its reader released and its response open: the model would write on, billed, to nobody. The
    // request is cancelled then by a signal of ours (the Anthropic and openai SDKs abort theirs).
    const left = new AbortController();
    try {
      const responses = await this.client.models.generateContentStream(
        toParams(request, AbortSignal.any([signal, left.signal]), tap),
      );
      for await (const response of responses) {
        const text = acc.add(response);
        if (text) yield { type: 'text', text };
      }
    } catch (err) {
      throw this.mapError(err, signal, tap);
    } finally {
      left.abort(); // a request already answered in full is not touched
    }
    // Gemini has no terminal event: the last chunk carries the finishReason. None means cut off.
    if (!acc.finished) throw truncatedStream(this.name, 'a finishReason');
    yield { type: 'done', response: acc.result(this.name, request) };
  }

  private mapError(err: unknown, signal: AbortSignal, tap: HeaderTap): ProviderError {
    if (err instanceof ProviderError) return err;
    if (signal.aborted) return abortError(this.name, signal, err);
    const secrets = [this.apiKey];
    if (err instanceof ApiError) {
      const headers = tap.headers;
      return httpError(
        this.name,
        {
          status: err.status,
          message: errorMessage(err.message),
          ...(headers ? { headers: (n: string) => headers.get(n) } : {}),
          ...retryDelayFromBody(err.message),
          ...kindFromBody(err.message),
        },
        secrets,
        err,
      );
    }
    return otherError(this.name, err, secrets);
  }
}

function headerTap(client: typeof fetch = fetch): HeaderTap {
  const tap: HeaderTap = {
    headers: undefined,
    fetch: async (input, init) => {
      const res = await client(input, init);
      tap.headers = res.headers;
      return res;
    },
  };
  return tap;
}

function toParams(request: ModelRequest, signal: AbortSignal, tap: HeaderTap) {
  const config: GenerateContentConfig = {
    ...configOf(request.extra),
    abortSignal: signal,
    httpOptions: { fetch: tap.fetch },
    // The tool loop is the engine's (see the top of this file).
    automaticFunctionCalling: { disable: true },
    ...structuredConfig(request),
    ...(request.maxTokens === undefined ? {} : { maxOutputTokens: request.maxTokens }),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.topP === undefined ? {} : { topP: request.topP }),
    ...(request.stop?.length ? { stopSequences: request.stop } : {}),
    ...(request.tools?.length
      ? {
          tools: [
            {
              functionDeclarations: request.tools.map((t) => ({
                name: t.name,
                description: t.description,
                parametersJsonSchema: t.parameters,
              })),
            },
          ],
        }
      : {}),
  };
  return { model: request.model, contents: toContents(request.messages), config };
}

/**
 * The SDK config a request's extras ask for: a step's `generation_config` (Gemini's generationConfig,
 * its fields as the API names them: `topK`, `thinkingConfig`) and, from code, any other SDK config
 * field. The SDK drops what it does not know, `generation_config` itself included.
 */
function configOf(extra: Record<string, unknown> | undefined): GenerateContentConfig {
  if (!extra) return {};
  const { generation_config: generation, mock: _mock, ...config } = extra;
  return { ...(config as GenerateContentConfig), ...(generation as GenerateContentConfig | undefined) };
}

/** Neutral messages → Gemini contents; function responses travel in a user turn, consecutive turns merge. */
function toContents(messages: ChatMessage[]): Content[] {
  const out: Content[] = [];
  const push = (role: 'user' | 'model', parts: Part[]) => {
    const last = out[out.length - 1];
    if (last && last.role === role) last.parts = [...(last.parts ?? []), ...parts];
    else out.push({ role, parts });
  };
  for (const m of messages) {
    if (m.role === 'user') push('user', [{ text: m.content }]);
    else if (m.role === 'tool') {
      push('user', [
        {
          functionResponse: {
            ...(m.toolCallId.startsWith(LOCAL_ID_PREFIX) ? {} : { id: m.toolCallId }),
            name: m.name,
            response: m.isError ? { error: m.content } : { output: m.content },
          },
        },
      ]);
    } else {
      const parts: Part[] = m.content ? [{ text: m.content }] : [];
      for (const c of m.toolCalls ?? []) {
        parts.push({
          functionCall: { ...(c.id.startsWith(LOCAL_ID_PREFIX) ? {} : { id: c.id }), name: c.name, args: c.arguments },
          // The model's thought signature goes back on the part it came with.
          ...(c.signature ? { thoughtSignature: c.signature } : {}),
        });
      }
      push('model', parts);
    }
  }
  return out;
}

/** Collects text, function calls, usage and the finish reason over one answer or many stream chunks. */
class ResponseAccumulator {
  finished = false;
  private text = '';
  private readonly toolCalls: ToolCall[] = [];
  private usage: GenerateContentResponse['usageMetadata'];
  private finish: string | undefined;
  private model: string | undefined;

  add(response: GenerateContentResponse): string {
    if (response.usageMetadata) this.usage = response.usageMetadata;
    if (response.modelVersion) this.model = response.modelVersion;
    const candidate = response.candidates?.[0];
    let added = '';
    for (const part of candidate?.content?.parts ?? []) {
      if (part.thought) continue;
      if (typeof part.text === 'string') added += part.text;
      if (part.functionCall) {
        this.toolCalls.push({
          id: part.functionCall.id ?? `${LOCAL_ID_PREFIX}${this.toolCalls.length + 1}`,
          name: part.functionCall.name ?? '',
          arguments: (part.functionCall.args ?? {}) as Record<string, unknown>,
          ...(part.thoughtSignature ? { signature: part.thoughtSignature } : {}),
        });
      }
    }
    this.text += added;
    if (candidate?.finishReason) {
      this.finish = candidate.finishReason;
      this.finished = true;
    }
    // A blocked prompt has no candidate at all, only promptFeedback: that is a finished answer too.
    if (response.promptFeedback?.blockReason) {
      this.finish = 'SAFETY';
      this.finished = true;
    }
    return added;
  }

  result(provider: string, request: ModelRequest): ModelResponse {
    const u = this.usage;
    const usage: Usage = {
      // What built-in tools (Google Search, URL context, code execution) put into the prompt is
      // billed as input too, but counted apart from the prompt (totalTokenCount = prompt + tool
      // use prompt + candidates + thoughts). cachedContentTokenCount is a part of the prompt's.
      inputTokens: (u?.promptTokenCount ?? 0) + (u?.toolUsePromptTokenCount ?? 0),
      // Thinking tokens are billed as output.
      outputTokens: (u?.candidatesTokenCount ?? 0) + (u?.thoughtsTokenCount ?? 0),
      ...(u?.cachedContentTokenCount ? { cacheReadTokens: u.cachedContentTokenCount } : {}),
    };
    if (this.finish && MALFORMED_CALL.has(this.finish)) {
      // The model wrote a function call the API could not parse: no content, not an empty answer.
      // Malformed, as an OpenAI call whose arguments are not JSON: retried, and billed. (The API's
      // finishMessage, quoting the call, is dropped by the SDK's response converter.)
      const why = `the answer is a malformed function call (${this.finish})`;
      throw new ProviderError(provider, 'invalid_response', why, { usage });
    }
    const response: ModelResponse = {
      text: this.text,
      toolCalls: this.toolCalls,
      usage,
      finishReason: this.toolCalls.length > 0 ? 'tool_calls' : finishReason(this.finish),
      model: this.model ?? request.model,
    };
    if (request.schema && this.toolCalls.length === 0) {
      const parsed = parseJsonText(this.text);
      if (parsed !== undefined) response.object = parsed;
    }
    return response;
  }
}

/**
 * Finish reasons of an answer that is a function call the API would not hand over, so it has no
 * content: MALFORMED_FUNCTION_CALL (not parsable), UNEXPECTED_TOOL_CALL (to a tool not declared).
 */
const MALFORMED_CALL: ReadonlySet<string> = new Set(['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL']);

function finishReason(reason: string | undefined): FinishReason {
  switch (reason) {
    case 'STOP':
      return 'stop';
    case 'MAX_TOKENS':
    // A checkpoint the SDK did not continue from (its continuation gave up): the answer is cut short.
    case 'CONTINUATION':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
      return 'content_filter';
    default:
      return 'other';
  }
}
