// The provider specification: one narrow, vendor-neutral interface, many implementations
// (anthropic, gemini, openai-compatible, claude-code, mock). Everything above this line —
// gates, cache, journal, step handlers — speaks only these types.

export type JsonSchema = Record<string, unknown>;

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: JsonSchema;
}

export interface ToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
  /**
   * Opaque vendor data that must travel back with the call in the next request: Gemini's
   * `thoughtSignature` (Gemini 3 refuses a function call sent back without it), or the same
   * signature as its OpenAI-compatible endpoint sends it (`extra_content.google.thought_signature`).
   */
  signature?: string;
}

/**
 * Opaque vendor data of one assistant turn that the next request of the conversation must send back
 * verbatim with that turn: Anthropic's `thinking` / `redacted_thinking` blocks with their signatures
 * (with thinking on, the API refuses tool results whose assistant turn comes back without them).
 * Like `ToolCall.signature` (Gemini's, which belongs to one call rather than to the turn), it is not
 * part of the answer: the call loop carries it from the response to the assistant message, only the
 * provider of the same protocol reads it (another one ignores it), and no template ever sees it.
 */
export interface VendorTurn {
  /** The wire protocol that produced it. */
  protocol: 'anthropic';
  /** Anthropic: the turn's content blocks in their original order, thinking blocks unmodified. */
  blocks: unknown[];
}

export type ChatMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[]; vendorTurn?: VendorTurn }
  | { role: 'tool'; toolCallId: string; name: string; content: string; isError?: boolean };

/** A provider-neutral request. Its canonical JSON is the call's content address (see journal). */
export interface ModelRequest {
  /** The provider name as configured (e.g. `anthropic`, or a user-declared `ollama`). */
  provider: string;
  model: string;
  system?: string;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  /** Structured output: the answer must be a JSON value valid against this schema. */
  schema?: JsonSchema;
  tools?: ToolSpec[];
  /** Vendor-specific parameters passed through (e.g. Gemini `generation_config`). */
  extra?: Record<string, unknown>;
}

export interface Usage {
  /** All prompt tokens of the call, cache reads and writes included (they are subsets of it). */
  inputTokens: number;
  outputTokens: number;
  /** Prompt-cache reads/writes, where the API reports them. */
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  /**
   * Of cacheWriteTokens, those written to a 1-hour cache (Anthropic's `ephemeral_1h_input_tokens`),
   * which cost more than the 5-minute writes; absent when there are none or the API does not say.
   */
  cacheWrite1hTokens?: number;
  /**
   * The server reported no usage: the counts are our estimate (a token per four characters, as the
   * budget estimates), so that the call is priced approximately rather than at $0.
   */
  estimated?: true;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'other';

export interface ModelResponse {
  /** The text of the answer (for structured output, the JSON text). */
  text: string;
  /** For structured output: the parsed value (not yet validated against the schema). */
  object?: unknown;
  toolCalls: ToolCall[];
  usage: Usage;
  finishReason: FinishReason;
  /** The model that answered, as the vendor reports it. */
  model: string;
  /** Cost already known to the provider (Claude Code reports it); otherwise priced by the table. */
  costUsd?: number;
  /**
   * The model declined to answer: OpenAI's `refusal` (sent instead of content with structured
   * outputs), its words; Claude's `stop_reason: refusal`, the explanation of its `stop_details`
   * ('' when none). The call loop ends the call with a RefusalError instead of re-asking.
   */
  refusal?: string;
  /** What the next request must send back with this turn (see VendorTurn); never part of the answer. */
  vendorTurn?: VendorTurn;
}

export type StreamChunk = { type: 'text'; text: string } | { type: 'done'; response: ModelResponse };

export type ProviderFeature = 'streaming' | 'tools' | 'structured_output' | 'system_prompt';

export interface Capabilities {
  streaming: boolean;
  tools: boolean;
  structuredOutput: boolean;
  systemPrompt: boolean;
}

export interface Provider {
  /** The configured provider name. */
  readonly name: string;
  /**
   * Who answers, when it is not the standard service of the provider's name: its type and base
   * URL (`openai https://llm.internal/v1`). Part of a call's cache key: two pipelines that give the
   * same name another endpoint, or a pipeline that points `openai` elsewhere, must never be
   * answered from each other's records.
   */
  readonly endpoint?: string;
  capabilities(): Capabilities;
  supports(feature: ProviderFeature): boolean;
  /** One complete call. Must abort the HTTP request when `signal` fires. */
  generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse>;
  /**
   * A streamed call: text chunks, then exactly one `done` carrying the whole response.
   * A stream that ends without `done` (cut off) must throw a retryable ProviderError.
   */
  stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamChunk>;
}

/**
 * What each vendor provider (Anthropic, Gemini, OpenAI-compatible) supports. One constant, so that a
 * provider whose SDK is not loaded yet (LazyProvider) reports exactly what the loaded one will.
 */
export const VENDOR_CAPABILITIES: Readonly<Capabilities> = Object.freeze({
  streaming: true,
  tools: true,
  structuredOutput: true,
  systemPrompt: true,
});

export function capabilitySupports(caps: Capabilities, feature: ProviderFeature): boolean {
  switch (feature) {
    case 'streaming':
      return caps.streaming;
    case 'tools':
      return caps.tools;
    case 'structured_output':
      return caps.structuredOutput;
    case 'system_prompt':
      return caps.systemPrompt;
  }
}
