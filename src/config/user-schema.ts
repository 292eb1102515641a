// The JSON Schemas users write (`schema:`, tool `parameters:`) are checked with ajv (draft
// 2020-12) at load time, so that a broken schema is reported before a model is ever asked.
import type { Ajv2020, ErrorObject } from 'ajv/dist/2020.js';
import { didYouMean } from './did-you-mean.js';
import { ajv2020 } from './load-ajv.js';

/**
 * An ajv for users' schemas. strictSchema catches misspelt keywords (`requird`); formats are not
 * validated (no ajv-formats), and type/tuple strictness would only log noise about legal schemas.
 */
export function createUserSchemaAjv(): Ajv2020 {
  const Ajv = ajv2020();
  return new Ajv({
    allErrors: true,
    strictSchema: true,
    strictTypes: false,
    strictTuples: false,
    validateFormats: false,
    logger: false,
  });
}

export interface SchemaError {
  /** Where inside the user's schema (keys and indexes). */
  path: (string | number)[];
  message: string;
  hint?: string;
}

const JSON_TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];

/** What is wrong with `schema` as a JSON Schema; empty when it is valid. */
export function jsonSchemaErrors(schema: unknown): SchemaError[] {
  // A fresh instance per schema: two user schemas may carry the same `$id`.
  const ajv = createUserSchemaAjv();
  if (!ajv.validateSchema(schema as object)) return metaSchemaErrors(ajv.errors ?? [], schema);
  try {
    ajv.compile(schema as object); // strict mode: unknown keywords, unresolvable $refs
    return [];
  } catch (error) {
    return [{ path: [], message: error instanceof Error ? error.message : String(error) }];
  }
}

/** One error per place in the schema (ajv reports each failed branch of the meta-schema). */
function metaSchemaErrors(errors: ErrorObject[], schema: unknown): SchemaError[] {
  const byPlace = new Map<string, SchemaError>();
  for (const error of errors) {
    if (byPlace.has(error.instancePath)) continue;
    const path = error.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const key = path[path.length - 1];
    const value = path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], schema);
    let message = `${key === undefined ? 'the schema' : `"${key}"`} ${error.message ?? 'is invalid'}`;
    let hint: string | undefined;
    if (key === 'type' && typeof value === 'string') {
      message = `"${value}" is not a JSON type (${JSON_TYPES.join(', ')})`;
      const guess = didYouMean(value, JSON_TYPES);
      if (guess) hint = `did you mean "${guess}"?`;
    }
    byPlace.set(error.instancePath, { path, message, ...(hint === undefined ? {} : { hint }) });
  }
  return [...byPlace.values()];
}
