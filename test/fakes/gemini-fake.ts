// A fake Gemini API: POST /v1beta/models/{model}:generateContent and
// :streamGenerateContent?alt=sse. Candidates with text and functionCall parts, usageMetadata,
// and structured output: a responseSchema / responseJsonSchema with a JSON mime type gets JSON text.
import { type FakeAnswer, type RequestDigest, splitText, usageFor } from './answer.js';
import { FakeServer, type RecordedRequest, type Route } from './fake-server.js';
import type { Fault } from './faults.js';
import type { SseEvent } from './sse.js';

interface GeminiPart {
  text?: string;
  functionCall?: { id?: string; name: string; args: unknown };
  functionResponse?: { name: string; response: unknown };
  thoughtSignature?: string;
}
interface GeminiBody {
  contents?: Array<{ role?: string; parts?: GeminiPart[] }>;
  tools?: Array<{ functionDeclarations?: unknown[] }>;
  systemInstruction?: unknown;
  generationConfig?: {
    responseMimeType?: string;
    responseSchema?: unknown;
    responseJsonSchema?: unknown;
    maxOutputTokens?: number;
  };
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const FINISH = { stop: 'STOP', length: 'MAX_TOKENS', tool_calls: 'STOP', content_filter: 'SAFETY' } as const;

const ROUTE = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

export class GeminiFake extends FakeServer {
  protected readonly label = 'gemini';
  private responseCount = 0;

  protected route(request: RecordedRequest): Route | null {
    const match = request.method === 'POST' ? ROUTE.exec(request.path) : null;
    if (!match) return null;
    const body = (request.body ?? {}) as GeminiBody;
    const contents = body.contents ?? [];
    const config = body.generationConfig ?? {};
    const schema =
      config.responseMimeType === 'application/json' ? (config.responseJsonSchema ?? config.responseSchema) : undefined;
    const stream = match[2] === 'streamGenerateContent';
    const digest: RequestDigest = {
      model: decodeURIComponent(match[1] ?? ''),
      lastUserText: lastUserText(contents),
      promptChars: JSON.stringify(contents).length + JSON.stringify(body.systemInstruction ?? '').length,
      stream,
      ...(schema ? { schema: schema as Record<string, unknown> } : {}),
      ...(config.maxOutputTokens === undefined ? {} : { maxOutputTokens: Number(config.maxOutputTokens) }),
    };
    return { stream, digest };
  }

  protected errorBody(status: number, message: string): unknown {
    return { error: { code: status, message, status: STATUS_NAMES[status] ?? 'UNKNOWN' } };
  }

  /**
   * Gemini 3 refuses a conversation whose current turn sends a function call back without the
   * `thoughtSignature` the model gave it (the first functionCall part of each model turn carries it).
   * Models before Gemini 3 refuse function declarations together with a JSON response mime type.
   */
  protected override refuse(request: RecordedRequest, route: Route) {
    const body = request.body as GeminiBody | undefined;
    if (!route.digest.model.startsWith('gemini-3')) {
      const functions = (body?.tools ?? []).some((t) => (t.functionDeclarations ?? []).length > 0);
      if (functions && body?.generationConfig?.responseMimeType === 'application/json') {
        return {
          status: 400,
          message: "Function calling with a response mime type: 'application/json' is unsupported",
        };
      }
      return undefined;
    }
    const contents = body?.contents ?? [];
    const lastUserText = contents.findLastIndex((c) => c.role === 'user' && (c.parts ?? []).some((p) => p.text));
    for (const [position, content] of contents.entries()) {
      if (position < lastUserText || content.role !== 'model') continue;
      const firstCall = (content.parts ?? []).find((p) => p.functionCall);
      if (firstCall && !firstCall.thoughtSignature) {
        return {
          status: 400,
          message: `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly. Additional data, function call \`${firstCall.functionCall?.name}\`, position ${position + 1}.`,
        };
      }
    }
    return undefined;
  }

  /** Gemini reports a failure mid-stream as a `data:` chunk holding its error body (`errorType`: the status name). */
  protected override streamErrorEvent(fault: Extract<Fault, { kind: 'stream_error' }>): SseEvent {
    const status = fault.errorType ?? 'INTERNAL';
    const code = Number(Object.entries(STATUS_NAMES).find(([, name]) => name === status)?.[0] ?? 500);
    return { data: { error: { code, message: fault.message ?? 'Internal error', status } } };
  }

  protected renderJson(answer: FakeAnswer, route: Route): unknown {
    if (answer.malformedCall !== undefined) return this.malformed(answer, route.digest);
    const text = answerText(answer);
    const parts: GeminiPart[] = [];
    if (text !== undefined) parts.push({ text });
    parts.push(...functionCallParts(answer));
    return this.response(parts, answer, route.digest, true);
  }

  protected renderEvents(answer: FakeAnswer, route: Route): SseEvent[] {
    if (answer.malformedCall !== undefined) return [{ data: this.malformed(answer, route.digest) }];
    const text = answerText(answer);
    const pieces = text === undefined ? [] : splitText(text, answer.chunks);
    const calls = functionCallParts(answer);
    const events: SseEvent[] = pieces.map((piece, i) => ({
      data: this.response([{ text: piece }], answer, route.digest, i === pieces.length - 1 && calls.length === 0),
    }));
    if (calls.length > 0 || events.length === 0)
      events.push({ data: this.response(calls, answer, route.digest, true) });
    return events;
  }

  /**
   * A function call the API could not parse: the candidate has no content at all, only the finish
   * reason and a message quoting the call. The prompt was read, and is billed.
   */
  private malformed(answer: FakeAnswer, digest: RequestDigest): unknown {
    this.responseCount += 1;
    const usage = usageFor(answer, digest, '');
    return {
      candidates: [
        {
          finishReason: 'MALFORMED_FUNCTION_CALL',
          finishMessage: `Malformed function call: ${answer.malformedCall}`,
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: usage.input, totalTokenCount: usage.input },
      modelVersion: answer.model ?? digest.model,
      responseId: `resp_fake_${this.responseCount}`,
    };
  }

  private response(parts: GeminiPart[], answer: FakeAnswer, digest: RequestDigest, last: boolean): unknown {
    this.responseCount += 1;
    const usage = usageFor(answer, digest, answerText(answer) ?? JSON.stringify(answer.toolCalls ?? []));
    const toolUse = answer.usage?.toolUsePrompt ?? 0;
    return {
      candidates: [
        {
          content: { role: 'model', parts },
          index: 0,
          ...(last ? { finishReason: FINISH[answer.finishReason ?? 'stop'] } : {}),
        },
      ],
      usageMetadata: {
        promptTokenCount: usage.input,
        ...(toolUse ? { toolUsePromptTokenCount: toolUse } : {}),
        ...(last ? { candidatesTokenCount: usage.output, totalTokenCount: usage.input + toolUse + usage.output } : {}),
        ...(usage.cacheRead ? { cachedContentTokenCount: usage.cacheRead } : {}),
      },
      modelVersion: answer.model ?? digest.model,
      responseId: `resp_fake_${this.responseCount}`,
    };
  }
}

function answerText(answer: FakeAnswer): string | undefined {
  if (answer.text !== undefined) return answer.text;
  if (answer.json !== undefined) return JSON.stringify(answer.json);
  return answer.toolCalls?.length ? undefined : '';
}

function functionCallParts(answer: FakeAnswer): GeminiPart[] {
  // Like a thinking model, the first function call of a turn carries the turn's thought signature.
  return (answer.toolCalls ?? []).map((call, i) => ({
    functionCall: { ...(call.id ? { id: call.id } : {}), name: call.name, args: call.arguments },
    ...(i === 0 ? { thoughtSignature: Buffer.from(`signature of ${call.name}`).toString('base64') } : {}),
  }));
}

function lastUserText(contents: NonNullable<GeminiBody['contents']>): string {
  const last = [...contents].reverse().find((c) => c.role === 'user' || c.role === undefined);
  return (last?.parts ?? [])
    .map((p) => p.text ?? (p.functionResponse ? JSON.stringify(p.functionResponse.response) : ''))
    .join('');
}
