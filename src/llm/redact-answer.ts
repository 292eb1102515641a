// A model's answer with every secret replaced (telemetry/redaction.ts): what it says is the one
// text of a call the process did not write, and it is cached, journaled, validated, printed and
// given to later steps — an agent that read a `.env`, a vendor echoing a key, must leave none there.
import type { ModelResponse, ToolCall } from '../providers/provider.js';
import type { Redactor } from '../telemetry/redact.js';

/**
 * `response` with its text, refusal, the strings of its structured value and of its tool calls'
 * arguments redacted; `response` itself when nothing changed (the usual answer: no copy). Each
 * string is read once. Left as they are: the model's name, usage, ids, and `vendorTurn` and tool-call
 * signatures — opaque vendor data sent back verbatim, which a vendor refuses altered.
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
  if (
    text === response.text &&
    object === response.object &&
    refusal === response.refusal &&
    toolCalls === response.toolCalls
  )
    return response;
  const redacted: ModelResponse = { ...response, text, toolCalls };
  if (object !== undefined) redacted.object = object;
  if (refusal !== undefined) redacted.refusal = refusal;
  return redacted;
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
