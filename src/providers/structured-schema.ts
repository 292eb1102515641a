// Claude's tool input and OpenAI's json_schema both need an object at the root; a user schema may
// be anything (an array, a string enum). Such schemas travel wrapped as `{ value: schema }`.
import type { JsonSchema } from './provider.js';

/** The name of the tool (Claude) / schema (OpenAI) that carries structured output. */
export const STRUCTURED_OUTPUT_NAME = 'structured_output';
export const STRUCTURED_OUTPUT_DESCRIPTION =
  'Return the final answer as arguments of this tool, exactly matching its schema.';

export interface ObjectRootSchema {
  schema: JsonSchema;
  /** Turns what the model returned for `schema` back into a value of the user's schema. */
  unwrap(value: unknown): unknown;
}

export function objectRootSchema(schema: JsonSchema): ObjectRootSchema {
  if (schema.type === 'object') return { schema, unwrap: (v) => v };
  const { $schema: _ignored, ...inner } = schema;
  return {
    schema: { type: 'object', properties: { value: inner }, required: ['value'], additionalProperties: false },
    unwrap: (v) => (v && typeof v === 'object' && 'value' in v ? (v as { value: unknown }).value : v),
  };
}

/** Parses the JSON text of a structured answer; undefined when it is not JSON (the caller repairs). */
export function parseJsonText(text: string): unknown {
  const trimmed = text
    .trim()
    .replace(/^```(?:json)?\s*/i, '')
    .replace(/```$/, '')
    .trim();
  if (!trimmed) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}
