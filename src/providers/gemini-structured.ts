// How a Gemini request asks for structured output. JSON mode (responseMimeType application/json with
// responseJsonSchema) where the model takes it; but before Gemini 3 the API refuses function
// declarations together with JSON mode (400 INVALID_ARGUMENT "Function calling with a response mime
// type: 'application/json' is unsupported"), so a step with both `tools:` and `schema:` failed every
// call. There the schema is asked for in the system instruction instead: the JSON text of the final
// answer is parsed as in JSON mode (a code fence allowed), and the call loop validates it and
// repairs it as any answer.
import type { GenerateContentConfig } from '@google/genai';
import type { ModelRequest } from './provider.js';

/** The config fields for `request`'s system prompt and schema. */
export function structuredConfig(
  request: ModelRequest,
): Pick<GenerateContentConfig, 'systemInstruction' | 'responseMimeType' | 'responseJsonSchema'> {
  const system = request.system ? { systemInstruction: request.system } : {};
  if (!request.schema) return system;
  if (!request.tools?.length || jsonModeWithFunctions(request.model)) {
    return { ...system, responseMimeType: 'application/json', responseJsonSchema: request.schema };
  }
  const instruction = `When you give your final answer rather than call a function, answer with only a JSON value, no other text, valid against this JSON Schema: ${JSON.stringify(request.schema)}`;
  return { systemInstruction: request.system ? `${request.system}\n\n${instruction}` : instruction };
}

/**
 * Whether the model takes function declarations with JSON mode: Gemini 3 and later. A name that says
 * no version (an alias such as `gemini-flash-latest`) is taken for an older one: the instruction
 * works on every model, JSON mode with functions only on some.
 */
function jsonModeWithFunctions(model: string): boolean {
  const major = /^(?:models\/)?gemini-(\d+)/.exec(model)?.[1];
  return major !== undefined && Number(major) >= 3;
}
