// The JSON Schemas users write (`schema:`, tool `parameters:`) are compiled with ajv (draft
// 2020-12) at load time, so that a broken schema is reported before a model is ever asked.
import { Ajv2020 } from 'ajv/dist/2020.js';

/**
 * An ajv for users' schemas. strictSchema catches misspelt keywords (`requird`); formats are not
 * validated (no ajv-formats), and type/tuple strictness would only log noise about legal schemas.
 */
export function createUserSchemaAjv(): Ajv2020 {
  return new Ajv2020({
    allErrors: true,
    strictSchema: true,
    strictTypes: false,
    strictTuples: false,
    validateFormats: false,
    logger: false,
  });
}

/** Undefined when `schema` is a valid JSON Schema, else what is wrong with it. */
export function jsonSchemaError(schema: unknown): string | undefined {
  // A fresh instance per schema: two user schemas may carry the same `$id`.
  try {
    createUserSchemaAjv().compile(schema as object);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
