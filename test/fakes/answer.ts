// What a fake answers, in vendor-neutral terms; each fake renders it in its own wire format.

export interface FakeToolCall {
  id?: string;
  name: string;
  arguments: Record<string, unknown>;
}

export interface FakeUsage {
  /** All prompt tokens, cache reads and writes included (each fake renders its vendor's convention). */
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
  /** Anthropic: of cacheWrite, the writes to a 1-hour cache (the rest are 5-minute ones). */
  cacheWrite1h?: number;
  /**
   * Gemini: tokens its built-in tools (Google Search, URL context, code execution) put into the
   * prompt — billed as input, reported apart as usageMetadata.toolUsePromptTokenCount.
   */
  toolUsePrompt?: number;
}

export interface FakeAnswer {
  /** The text of the answer (for Gemini/OpenAI structured output: the JSON text, possibly invalid). */
  text?: string;
  /**
   * A structured answer. Anthropic renders it as the forced tool's `input`; Gemini and OpenAI as JSON text.
   * Use `text` instead to send something that is not JSON.
   */
  json?: unknown;
  toolCalls?: FakeToolCall[];
  usage?: Partial<FakeUsage>;
  /** `content_filter`: the vendor's filter stopped the answer (Gemini SAFETY, OpenAI content_filter). */
  finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  /**
   * The JSON arguments of the last tool call stop after this many characters — what the real APIs
   * send when the answer hits max_tokens inside them (with `finishReason: 'length'`), or a malformed
   * answer (with any other finish reason). OpenAI renders it (JSON and stream), Anthropic in a stream;
   * Anthropic's non-streamed answer carries the input parsed, with only the parameters completed
   * before the cut.
   */
  cutArguments?: number;
  /**
   * Anthropic, when the request turns thinking on: the text of the thinking block that opens the
   * answer (default: a fixed sentence). The fake signs it and checks the signature when it comes back.
   */
  thinking?: string;
  /**
   * The model declines. OpenAI (structured outputs): `refusal` instead of content. Anthropic: the
   * answer stops with `stop_reason: refusal` (after the `text`, if any, that came before), this the
   * explanation in its `stop_details`.
   */
  refusal?: string;
  /**
   * Gemini: the model wrote a function call the API could not parse. The answer has no content, only
   * finishReason MALFORMED_FUNCTION_CALL and a finishMessage quoting what the model wrote (this text).
   */
  malformedCall?: string;
  /** How many stream chunks the text is split into (default 3). */
  chunks?: number;
  model?: string;
}

/** What the protocol-specific parser extracted from a request, for the default answer. */
export interface RequestDigest {
  model: string;
  /** The text of the last user message (or tool result). */
  lastUserText: string;
  /** Characters of prompt seen, to derive a plausible input token count. */
  promptChars: number;
  /** The schema of requested structured output, if any. */
  schema?: Record<string, unknown>;
  /** Anthropic: the name of the tool forced by tool_choice (structured output). */
  forcedTool?: string;
  stream: boolean;
  /**
   * The output cap the request sent (max_tokens, max_completion_tokens, maxOutputTokens): like a
   * real server, the fake never answers more — an answer whose usage says more is cut to the cap.
   */
  maxOutputTokens?: number;
}

/** The default, deterministic answer: an echo of the last user message, or a sample of the schema. */
export function defaultAnswer(digest: RequestDigest): FakeAnswer {
  if (digest.schema) return { json: sampleFromSchema(digest.schema) };
  return { text: `echo: ${digest.lastUserText}` };
}

export function usageFor(answer: FakeAnswer, digest: RequestDigest, renderedText: string): FakeUsage {
  return {
    input: answer.usage?.input ?? Math.max(1, Math.ceil(digest.promptChars / 4)),
    output: answer.usage?.output ?? Math.max(1, Math.ceil(renderedText.length / 4)),
    cacheRead: answer.usage?.cacheRead ?? 0,
    cacheWrite: answer.usage?.cacheWrite ?? 0,
    cacheWrite1h: answer.usage?.cacheWrite1h ?? 0,
  };
}

/**
 * The answer as a server holding the request to its output cap sends it: an answer longer than the
 * cap (its usage says more output tokens) stops at the cap, with finish reason `length`.
 */
export function withinOutputCap(answer: FakeAnswer, digest: RequestDigest): FakeAnswer {
  const cap = digest.maxOutputTokens;
  const output = answer.usage?.output;
  if (cap === undefined || output === undefined || output <= cap) return answer;
  return { ...answer, usage: { ...answer.usage, output: cap }, finishReason: 'length' };
}

/** Splits text into `n` nearly equal, non-empty pieces (fewer when the text is short). */
export function splitText(text: string, n = 3): string[] {
  if (text.length === 0) return [];
  const size = Math.max(1, Math.ceil(text.length / n));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** A minimal deterministic value valid against common JSON Schemas (objects, arrays, scalars, enum, const). */
export function sampleFromSchema(schema: unknown): unknown {
  if (!schema || typeof schema !== 'object') return null;
  const s = schema as Record<string, unknown>;
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries(props)) out[key] = sampleFromSchema(sub);
      return out;
    }
    case 'array':
      return [sampleFromSchema(s.items)];
    case 'string':
      return 'example';
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return typeof s.properties === 'object' ? sampleFromSchema({ ...s, type: 'object' }) : null;
  }
}
