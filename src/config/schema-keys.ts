// Which keys the zod schema allows in the mapping at a given path, so that an unknown key can be
// answered with "did you mean …". Walks zod's runtime definitions guided by the data itself
// (a step's `type` picks its variant of the discriminated union).
import type { z } from 'zod';
import type { DocPath } from './path.js';
import { type ZodDef as Def, defOf } from './zod-def.js';

/** Unwraps optional/lazy/pipe and picks the union member that fits `data`. */
function resolve(schema: z.ZodType, data: unknown): z.ZodType | undefined {
  for (let depth = 0; depth < 20; depth++) {
    const def = defOf(schema);
    if (def.type === 'optional' || def.type === 'nullable' || def.type === 'default')
      schema = def.innerType as z.ZodType;
    else if (def.type === 'lazy') schema = (def.getter as () => z.ZodType)();
    else if (def.type === 'pipe') schema = def.in as z.ZodType;
    else if (def.type === 'union') {
      const picked = pickOption(def, data);
      if (!picked) return undefined;
      schema = picked;
    } else return schema;
  }
  return undefined;
}

function pickOption(def: Def, data: unknown): z.ZodType | undefined {
  const options = def.options ?? [];
  if (def.discriminator) {
    const tag = (data as Record<string, unknown> | undefined)?.[def.discriminator];
    return options.find((option) => {
      const field = defOf(option).shape?.[def.discriminator as string];
      return field !== undefined && (defOf(field).values ?? []).includes(tag);
    });
  }
  const wanted = Array.isArray(data) ? 'array' : typeof data === 'object' && data !== null ? 'object' : undefined;
  return options.find((option) => {
    const resolved = resolve(option, data);
    return resolved !== undefined && defOf(resolved).type === wanted;
  });
}

/** The keys allowed in the object at `path` (given the document `data`), or undefined if unknown. */
export function allowedKeysAt(root: z.ZodType, data: unknown, path: DocPath): string[] | undefined {
  let schema: z.ZodType | undefined = root;
  let value: unknown = data;
  for (const segment of path) {
    schema = resolve(schema, value);
    if (!schema) return undefined;
    const def = defOf(schema);
    value = (value as Record<string | number, unknown> | undefined)?.[segment];
    if (def.type === 'object') schema = def.shape?.[String(segment)];
    else if (def.type === 'array') schema = def.element;
    else if (def.type === 'record') schema = def.valueType;
    else return undefined;
    if (!schema) return undefined;
  }
  schema = resolve(schema, value);
  const shape = schema ? defOf(schema).shape : undefined;
  return shape ? Object.keys(shape) : undefined;
}
