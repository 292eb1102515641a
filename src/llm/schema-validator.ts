// Validation of structured answers and tool arguments against users' JSON Schemas (draft 2020-12),
// each schema compiled once. Errors are rendered as short lines a model can act on.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { JsonSchema } from '../providers/provider.js';

// Schemas were checked strictly at load time; here we only validate values.
const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false, logger: false });
const byIdentity = new WeakMap<object, ValidateFunction>();
const byText = new Map<string, ValidateFunction>();

function compiled(schema: JsonSchema): ValidateFunction {
  const known = byIdentity.get(schema);
  if (known) return known;
  const text = JSON.stringify(schema);
  let validate = byText.get(text);
  if (!validate) {
    validate = ajv.compile(schema);
    byText.set(text, validate);
  }
  byIdentity.set(schema, validate);
  return validate;
}

/** The problems of `value` against `schema`, one line each (empty when it is valid). */
export function schemaErrors(schema: JsonSchema, value: unknown): string[] {
  const validate = compiled(schema);
  if (validate(value)) return [];
  return (validate.errors ?? []).map(describeError);
}

function describeError(e: ErrorObject): string {
  const where = e.instancePath || '(root)';
  if (e.keyword === 'additionalProperties') {
    return `${where}: unexpected property "${String((e.params as { additionalProperty: string }).additionalProperty)}"`;
  }
  if (e.keyword === 'enum') {
    return `${where}: must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
  }
  return `${where}: ${e.message ?? e.keyword}`;
}
