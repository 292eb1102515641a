// Claude's tool input and OpenAI's json_schema both need an object at the root; a user schema may
// be anything (an array, a string enum). Such schemas travel wrapped as `{ value: schema }`, their
// `$defs` hoisted to the wrapper's root so that their references still resolve.
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

/**
 * The schema as an object root. A schema that is not an object travels as `{ value: schema }`; its
 * references must still resolve in the wrapper, which is the document they now live in:
 *
 * - `$defs` / `definitions` move up to the wrapper's root, so `#/$defs/…` keeps pointing at them;
 * - a root `$id` moves up too (the wrapper is the resource whose `$defs` they are);
 * - a reference to the root itself (`#`, or `#/items/…` inside it), e.g. a recursive schema, would
 *   now point at the wrapper: the root goes into the wrapper's `$defs` under a fresh name, `value`
 *   refers to it, and those references are rewritten to point there.
 *
 * Subschemas with an `$id` of their own are their own resources (their `#` is themselves): left as
 * they are. Data keywords (`const`, `enum`, `default`, `examples`) are never rewritten.
 */
export function objectRootSchema(schema: JsonSchema): ObjectRootSchema {
  if (schema.type === 'object') return { schema, unwrap: (v) => v };
  const { $schema: _ignored, ...inner } = schema;
  const hoisted: JsonSchema = {};
  for (const key of ['$id', '$defs', 'definitions'] as const) {
    const value = inner[key];
    if (key === '$id' ? typeof value !== 'string' : !isPlainObject(value)) continue;
    hoisted[key] = value;
    delete inner[key];
  }
  const id = hoisted.$id as string | undefined;
  const defs = (hoisted.$defs ?? {}) as Record<string, unknown>;
  let rootName = 'value';
  for (let n = 2; Object.hasOwn(defs, rootName); n += 1) rootName = `value_${n}`;

  let refersToRoot = false;
  const rewrite = (ref: string): string => {
    const fragment = rootPointer(ref, id);
    if (fragment === undefined) return ref;
    refersToRoot = true;
    return `#/$defs/${rootName}${fragment}`;
  };
  const body = rewriteRefs(inner, rewrite, true) as JsonSchema;
  for (const key of ['$defs', 'definitions'] as const) {
    const map = hoisted[key] as Record<string, unknown> | undefined;
    if (map) hoisted[key] = mapValues(map, (sub) => rewriteRefs(sub, rewrite, false));
  }
  if (refersToRoot) hoisted.$defs = { ...(hoisted.$defs as Record<string, unknown> | undefined), [rootName]: body };
  return {
    schema: {
      ...(id === undefined ? {} : { $id: id }),
      type: 'object',
      properties: { value: refersToRoot ? { $ref: `#/$defs/${rootName}` } : body },
      required: ['value'],
      additionalProperties: false,
      ...(hoisted.$defs ? { $defs: hoisted.$defs } : {}),
      ...(hoisted.definitions ? { definitions: hoisted.definitions } : {}),
    },
    unwrap: (v) => (v && typeof v === 'object' && 'value' in v ? (v as { value: unknown }).value : v),
  };
}

/**
 * The JSON pointer (`''` for the root) of a reference into the user's root schema that no longer
 * resolves once it is wrapped — anything but `$defs` / `definitions`, which move with the root —
 * or undefined (a reference elsewhere, to an anchor, to another document).
 */
function rootPointer(ref: string, id: string | undefined): string | undefined {
  let fragment: string;
  if (ref.startsWith('#')) fragment = ref.slice(1);
  else if (id !== undefined && (ref === id || ref.startsWith(`${id}#`))) fragment = ref.slice(id.length + 1);
  else return undefined;
  if (fragment !== '' && !fragment.startsWith('/')) return undefined; // `#name`: an anchor, it moves with its schema
  let first: string;
  try {
    first = decodeURIComponent(fragment.split('/')[1] ?? '');
  } catch {
    return undefined;
  }
  return fragment !== '' && (first === '$defs' || first === 'definitions') ? undefined : fragment;
}

/** Keywords whose value is a schema, an array of schemas, a map of names to schemas (drafts 7 to 2020-12). */
const SCHEMA_KEYWORDS = new Set([
  'additionalProperties',
  'additionalItems',
  'items',
  'contains',
  'propertyNames',
  'if',
  'then',
  'else',
  'not',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
]);
const SCHEMA_LIST_KEYWORDS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items']);
const SCHEMA_MAP_KEYWORDS = new Set([
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
  'dependencies',
]);

/** A copy of `schema` with its `$ref` / `$dynamicRef` strings passed through `rewrite`. */
function rewriteRefs(schema: unknown, rewrite: (ref: string) => string, isRoot: boolean): unknown {
  if (!isPlainObject(schema)) return schema; // true / false, or not a schema at all
  if (!isRoot && typeof schema.$id === 'string') return schema; // a resource of its own
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if ((key === '$ref' || key === '$dynamicRef') && typeof value === 'string') out[key] = rewrite(value);
    else if (SCHEMA_LIST_KEYWORDS.has(key) && Array.isArray(value))
      out[key] = value.map((sub) => rewriteRefs(sub, rewrite, false));
    else if (SCHEMA_MAP_KEYWORDS.has(key) && isPlainObject(value))
      out[key] = mapValues(value, (sub) => rewriteRefs(sub, rewrite, false));
    else if (SCHEMA_KEYWORDS.has(key)) out[key] = rewriteRefs(value, rewrite, false);
    else out[key] = value;
  }
  return out;
}

function mapValues(map: Record<string, unknown>, f: (value: unknown) => unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, f(v)]));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
