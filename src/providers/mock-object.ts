// A deterministic value valid against a JSON Schema, for the mock provider's structured steps.
// It covers what pipelines use in practice (objects, arrays, enums, consts, scalars with bounds,
// anyOf/oneOf, $ref to local $defs); the mock's purpose is a schema-valid stand-in, not fuzzing.
import type { JsonSchema } from './provider.js';

export function mockValueFor(schema: JsonSchema, seed: number, root: JsonSchema = schema, depth = 0): unknown {
  if (depth > 8) return null;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[seed % schema.enum.length];
  if (typeof schema.$ref === 'string') {
    const target = resolveLocalRef(root, schema.$ref);
    return target ? mockValueFor(target, seed, root, depth + 1) : null;
  }
  const variants = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(variants) && variants.length > 0)
    return mockValueFor(variants[0] as JsonSchema, seed, root, depth + 1);
  const type = Array.isArray(schema.type) ? (schema.type.find((t) => t !== 'null') ?? schema.type[0]) : schema.type;
  switch (type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const out: Record<string, unknown> = {};
      let i = 0;
      for (const [key, sub] of Object.entries(properties)) out[key] = mockValueFor(sub, seed + i++, root, depth + 1);
      return out;
    }
    case 'array': {
      const min = typeof schema.minItems === 'number' ? schema.minItems : 1;
      const max = typeof schema.maxItems === 'number' ? schema.maxItems : Math.max(min, 2);
      const count = Math.min(Math.max(min, 2), max);
      const items = (schema.items ?? {}) as JsonSchema;
      return Array.from({ length: count }, (_, i) => mockValueFor(items, seed + i, root, depth + 1));
    }
    case 'integer':
    case 'number': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : 0;
      const max = typeof schema.maximum === 'number' ? schema.maximum : min + 100;
      const value = min + (seed % (max - min + 1));
      return type === 'integer' ? Math.floor(value) : value;
    }
    case 'boolean':
      return seed % 2 === 0;
    case 'null':
      return null;
    default: {
      const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
      const text = `mock-${seed.toString(36)}`;
      return text.padEnd(minLength, 'x');
    }
  }
}

function resolveLocalRef(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node as JsonSchema | undefined;
}
