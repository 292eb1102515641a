// A model's answer with every secret replaced (telemetry/redaction.ts): what it says is the one
// text of a call the process did not write, and it is cached, journaled, validated, printed and
// given to later steps — an agent that read a `.env`, a vendor echoing a key, must leave none there.
import type { ModelResponse, ToolCall, VendorTurn } from '../providers/provider.js';
import type { Redactor } from '../telemetry/redact.js';

/**
 * `response` with its text, refusal, the strings of its structured value and of its tool calls'
 * arguments redacted, and the same parts of the turn kept to be sent back (`vendorTurn`: its text
 * and tool_use blocks); `response` itself when nothing changed (the usual answer: no copy). Left as
 * they are: the model's name, usage, ids, signatures and the turn's thinking blocks — signed by the
 * vendor, which refuses them altered (a secret the model wrote in its thinking stays there).
 */
export function redactAnswer(response: ModelResponse, redact: Redactor): ModelResponse {
  const text = redact(response.text);
  const object = response.object === undefined ? undefined : redactStrings(response.object, redact);
  const refusal = response.refusal === undefined ? undefined : redact(response.refusal);
  let toolCalls = response.toolCalls;
  for (let i = 0; i < toolCalls.length; i++) {
    const call = toolCalls[i] as ToolCall;
    const args = redactStrings(call.arguments, redact);
    if (args === call.arguments) continue;
    if (toolCalls === response.toolCalls) toolCalls = [...toolCalls];
    toolCalls[i] = { ...call, arguments: args };
  }
  const vendorTurn = response.vendorTurn === undefined ? undefined : redactTurn(response.vendorTurn, redact);
  if (
    text === response.text &&
    object === response.object &&
    refusal === response.refusal &&
    toolCalls === response.toolCalls &&
    vendorTurn === response.vendorTurn
  )
    return response;
  const redacted: ModelResponse = { ...response, text, toolCalls };
  if (object !== undefined) redacted.object = object;
  if (refusal !== undefined) redacted.refusal = refusal;
  if (vendorTurn !== undefined) redacted.vendorTurn = vendorTurn;
  return redacted;
}

/** The turn with its text and tool_use blocks redacted (not signed); itself when none changed. */
function redactTurn(turn: VendorTurn, redact: Redactor): VendorTurn {
  let blocks = turn.blocks;
  if (!Array.isArray(blocks)) return turn; // no turn this code knows: sent back as it came
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i] as { type?: unknown; text?: unknown; input?: unknown };
    let changed: object | undefined;
    if (block.type === 'text' && typeof block.text === 'string') {
      const text = redact(block.text);
      if (text !== block.text) changed = { ...block, text };
    } else if (block.type === 'tool_use') {
      const input = redactStrings(block.input, redact);
      if (input !== block.input) changed = { ...block, input };
    }
    if (changed === undefined) continue;
    if (blocks === turn.blocks) blocks = [...blocks];
    blocks[i] = changed;
  }
  return blocks === turn.blocks ? turn : { ...turn, blocks };
}

/** `value` with every string (keys included) redacted; `value` itself when none changed. */
function redactStrings<T>(value: T, redact: Redactor): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = redactStrings(value[i], redact);
      if (item === value[i]) continue;
      out ??= [...value];
      out[i] = item;
    }
    return (out ?? value) as T;
  }
  if (value !== null && typeof value === 'object') {
    let out: Record<string, unknown> | undefined;
    for (const [key, item] of Object.entries(value)) {
      const name = redact(key);
      const redacted = redactStrings(item, redact);
      if (name === key && redacted === item) continue;
      out ??= { ...(value as Record<string, unknown>) };
      if (name !== key) delete out[key];
      setOwn(out, name, redacted);
    }
    return (out ?? value) as T;
  }
  return value;
}

/** `target[key] = value` as an own property even for `__proto__` (a JSON answer may hold that key). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}
