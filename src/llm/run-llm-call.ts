// What an LLM step does above a single model call: run the tools the model asks for (up to
// max_turns rounds), validate structured output and re-ask with the errors (up to max_repairs),
// stream chunks through, and add up usage and cost over every call it made.
import type { PriceOverrides } from '../pricing/price-call.js';
import type { ChatMessage, JsonSchema, ModelRequest, ModelResponse, ToolCall } from '../providers/provider.js';
import { cutText } from '../text-cut.js';
import { MaxTurnsExceededError, RefusalError, StructuredOutputError } from './errors.js';
import type { ModelCaller } from './model-caller.js';
import { schemaErrors } from './schema-validator.js';
import { ToolError, type ToolImplementations } from './tools/tool-types.js';
import { UsageTotal } from './usage-total.js';

export const DEFAULT_MAX_REPAIRS = 2;
export const DEFAULT_MAX_TURNS = 10;
/** A tool result larger than this is cut: a model's context is bounded, and so is the journal. */
export const TOOL_RESULT_MAX_CHARS = 100_000;

export interface LlmCallOptions {
  request: ModelRequest;
  call: ModelCaller;
  signal: AbortSignal;
  /** Re-asks after an answer that does not validate against `request.schema` (default 2). */
  maxRepairs?: number;
  /** Implementations of `request.tools`, by name. */
  tools?: ToolImplementations;
  /** Rounds of tool calls allowed (default 10); one more round throws MaxTurnsExceededError. */
  maxTurns?: number;
  stream?: boolean;
  onChunk?: (text: string) => void;
  /** `providers.<name>.prices` of the pipeline. */
  prices?: PriceOverrides;
}

export interface ToolCallRecord {
  call: ToolCall;
  result: string;
  isError: boolean;
}

export interface LlmCallResult {
  text: string;
  /** The validated value, when the request had a schema. */
  object?: unknown;
  toolCalls: ToolCallRecord[];
  usage: ModelResponse['usage'];
  /**
   * What the priced calls cost, summed over all of them; null only when none could be priced.
   * `unpricedCalls` counts the calls that could not (a model missing from the price table).
   */
  costUsd: number | null;
  unpricedCalls: number;
  calls: number;
  repairs: number;
  /** Rounds of tool calls that were run. */
  turns: number;
  model: string;
  finishReason: ModelResponse['finishReason'];
}

export async function runLlmCall(options: LlmCallOptions): Promise<LlmCallResult> {
  const { request, call, signal } = options;
  const maxRepairs = options.maxRepairs ?? DEFAULT_MAX_REPAIRS;
  const maxTurns = options.maxTurns ?? DEFAULT_MAX_TURNS;
  const total = new UsageTotal(request.provider, options.prices);
  const messages: ChatMessage[] = [...request.messages];
  const toolCalls: ToolCallRecord[] = [];
  let repairs = 0;
  let turns = 0;
  // What a structured answer fails, judged once: for the cache (reusable) and for the repair below,
  // which ask about the same answer one after the other.
  let judged: ModelResponse | undefined;
  let judgedErrors: string[] = [];
  const schemaProblems = (response: ModelResponse): string[] => {
    if (response !== judged) {
      judged = response;
      judgedErrors =
        response.object === undefined
          ? ['the answer is not valid JSON']
          : schemaErrors(request.schema as JsonSchema, response.object);
    }
    return judgedErrors;
  };
  // The answers this loop rejects below (a refusal, a filtered answer, an invalid structured one).
  const reusable = (response: ModelResponse): boolean =>
    response.refusal === undefined &&
    response.finishReason !== 'content_filter' &&
    (!request.schema || response.toolCalls.length > 0 || schemaProblems(response).length === 0);
  const callOptions = {
    signal,
    stream: options.stream ?? false,
    reusable,
    ...(options.onChunk ? { onChunk: options.onChunk } : {}),
  };

  for (;;) {
    signal.throwIfAborted();
    const response = await call({ ...request, messages: [...messages] }, callOptions);
    total.add(response);
    // A refusal is the model's final word: re-asking (a repair) would pay again to hear it again.
    if (response.refusal !== undefined) throw new RefusalError(response.refusal, response.model);
    // So is a vendor's content filter stopping the answer (Gemini SAFETY or a blocked prompt, OpenAI
    // content_filter): what it let through is cut (often empty) — no answer, and none to repair.
    if (response.finishReason === 'content_filter') throw new RefusalError('', response.model, true);

    if (response.toolCalls.length > 0) {
      if (turns >= maxTurns) throw new MaxTurnsExceededError(maxTurns);
      turns += 1;
      messages.push({
        role: 'assistant',
        content: response.text,
        toolCalls: response.toolCalls,
        // What the vendor needs back with this turn (Anthropic's thinking blocks): opaque, verbatim.
        ...(response.vendorTurn ? { vendorTurn: response.vendorTurn } : {}),
      });
      for (const toolCall of response.toolCalls) {
        const record = await runTool(toolCall, options.tools ?? {}, request, signal);
        toolCalls.push(record);
        messages.push({
          role: 'tool',
          toolCallId: toolCall.id,
          name: toolCall.name,
          content: record.result,
          ...(record.isError ? { isError: true } : {}),
        });
      }
      continue;
    }

    const done = (object?: { value: unknown }): LlmCallResult => ({
      text: response.text,
      ...(object ? { object: object.value } : {}),
      toolCalls,
      usage: total.usage,
      costUsd: total.costUsd,
      unpricedCalls: total.unpricedCalls,
      calls: total.calls,
      repairs,
      turns,
      model: response.model,
      finishReason: response.finishReason,
    });
    if (!request.schema) return done();

    const errors = schemaProblems(response);
    if (errors.length === 0) return done({ value: response.object });
    if (repairs >= maxRepairs) throw new StructuredOutputError(errors, response.text, repairs + 1);
    repairs += 1;
    // An empty answer (a model that spent its cap thinking) is told, not echoed: the vendors refuse
    // a request holding an empty assistant turn (Anthropic: 400, "non-empty content").
    if (response.text.trim() === '') messages.push({ role: 'user', content: repairPrompt(errors, true) });
    else messages.push({ role: 'assistant', content: response.text }, { role: 'user', content: repairPrompt(errors) });
  }
}

function repairPrompt(errors: string[], empty = false): string {
  return [
    empty
      ? 'Your previous answer was empty, so it does not satisfy the required JSON schema:'
      : 'Your previous answer does not satisfy the required JSON schema:',
    ...errors.map((e) => `- ${e}`),
    'Answer again with only a JSON value that satisfies the schema.',
  ].join('\n');
}

async function runTool(
  toolCall: ToolCall,
  tools: ToolImplementations,
  request: ModelRequest,
  signal: AbortSignal,
): Promise<ToolCallRecord> {
  const fail = (message: string): ToolCallRecord => ({ call: toolCall, result: message, isError: true });
  const impl = Object.hasOwn(tools, toolCall.name) ? tools[toolCall.name] : undefined;
  if (!impl) return fail(`unknown tool "${toolCall.name}"`);
  const spec = request.tools?.find((t) => t.name === toolCall.name);
  if (spec) {
    const problems = schemaErrors(spec.parameters, toolCall.arguments);
    if (problems.length) return fail(`invalid arguments: ${problems.join('; ')}`);
  }
  try {
    const value = await impl(toolCall.arguments, { signal });
    const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
    return { call: toolCall, result: bounded(text), isError: false };
  } catch (err) {
    signal.throwIfAborted(); // a cancelled run is not the tool's failure
    const message =
      err instanceof ToolError ? err.message : `tool failed: ${err instanceof Error ? err.message : String(err)}`;
    return fail(bounded(message));
  }
}

function bounded(text: string): string {
  if (text.length <= TOOL_RESULT_MAX_CHARS) return text;
  return `${cutText(text, TOOL_RESULT_MAX_CHARS)}\n[truncated: ${text.length} characters]`;
}
