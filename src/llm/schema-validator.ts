// Validation of structured answers and tool arguments against users' JSON Schemas (draft 2020-12),
// each schema compiled once. Errors are rendered as short lines a model can act on.
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { ajv2020 } from '../config/load-ajv.js';
import type { JsonSchema } from '../providers/provider.js';

// Schemas were checked strictly at load time; here we only validate values. One instance serves
// every run of the process (a new one costs ~25 ms: its meta-schemas), so it must not keep what
// it compiled as named schemas: two pipelines — or two versions of one in a long-lived `serve` —
// whose schemas share an `$id` would otherwise fail with "schema with key or id … already exists"
// (addUsedSchema: false; a schema's own `$ref`s to its own `$id`s still resolve). Made on the first
// validation: a run whose steps declare no schema never pays for ajv (config/load-ajv.ts).
let shared: Ajv2020 | undefined;
function ajv(): Ajv2020 {
  const Ajv = ajv2020();
  shared ??= new Ajv({
    allErrors: true,
    strict: false,
    validateFormats: false,
    logger: false,
    addUsedSchema: false,
  });
  return shared;
}
const byIdentity = new WeakMap<object, ValidateFunction>();
/**
 * By canonical text, least recently used first: bounded, because a server compiles the schemas of
 * every pipeline it is sent; an entry dropped is dropped from ajv's own cache too.
 */
const byText = new Map<string, { schema: JsonSchema; validate: ValidateFunction }>();
export const MAX_COMPILED_SCHEMAS = 500;

function compiled(schema: JsonSchema): ValidateFunction {
  const known = byIdentity.get(schema);
  if (known) return known;
  const text = JSON.stringify(schema);
  let entry = byText.get(text);
  if (entry) byText.delete(text);
  else {
    entry = { schema, validate: ajv().compile(schema) };
    if (byText.size >= MAX_COMPILED_SCHEMAS) {
      const [oldestText, oldest] = byText.entries().next().value as [string, { schema: JsonSchema }];
      byText.delete(oldestText);
      ajv().removeSchema(oldest.schema);
    }
  }
  byText.set(text, entry);
  byIdentity.set(schema, entry.validate);
  return entry.validate;
}

/** Compiled schemas held (for tests: the cache is bounded). */
export function compiledSchemaCount(): number {
  return byText.size;
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
