// The tool calls of a streamed OpenAI-compatible answer, put together from their deltas. OpenAI
// numbers each call (`index`), sends its id and name in its first delta only and its arguments in
// pieces after it. Compatible servers do not all do so: Gemini's OpenAI-compatible endpoint (and
// Ollama before 0.5) sends no `index` (absent or null), its ids sometimes empty; vLLM's and SGLang's
// tool parsers, and proxies in front of Gemini, give every call of an answer index 0. Read by index
// alone, the first lose every call (the answer comes back as one without tool calls) and the second
// merge them into one whose arguments are JSON objects end to end — not JSON: an invalid_response,
// retried and paid again, ending the same way. So a delta whose id differs from its slot's starts a
// call of its own; without an index, a delta continues the last call unless its id or a name (sent
// once per call) says it is the next one.
import type { ChatCompletionChunk } from 'openai/resources/chat/completions/completions.js';
import { thoughtSignatureOf } from './openai-thought-signature.js';

type ToolCallDelta = NonNullable<ChatCompletionChunk.Choice.Delta['tool_calls']>[number];

export interface StreamedToolCall {
  id: string;
  name: string;
  /** The arguments' JSON text as sent, possibly cut off or malformed. */
  args: string;
  /** Gemini's thought signature, from whichever delta of the call carried it (openai-thought-signature.ts). */
  signature?: string;
}

export class ToolCallDeltas {
  /** In the order the calls began. */
  readonly calls: StreamedToolCall[] = [];
  private readonly byIndex = new Map<number, StreamedToolCall>();

  add(delta: ToolCallDelta): void {
    const call = this.slotOf(delta);
    if (delta.id) call.id = delta.id;
    if (delta.function?.name) call.name += delta.function.name;
    if (delta.function?.arguments) call.args += delta.function.arguments;
    const signature = thoughtSignatureOf(delta);
    if (signature) call.signature = signature;
  }

  private slotOf(delta: ToolCallDelta): StreamedToolCall {
    const index = typeof delta.index === 'number' ? delta.index : undefined;
    const current = index === undefined ? this.calls[this.calls.length - 1] : this.byIndex.get(index);
    const otherId = Boolean(delta.id && current?.id && delta.id !== current.id);
    const nextName = index === undefined && Boolean(delta.function?.name && current?.name);
    if (current && !otherId && !nextName) return current;
    const call: StreamedToolCall = { id: '', name: '', args: '' };
    this.calls.push(call);
    if (index !== undefined) this.byIndex.set(index, call);
    return call;
  }
}
