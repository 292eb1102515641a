// Which keys of the pipeline schema take a duration (Duration or TimerDuration), read from the
// schema itself: a list written by hand beside it drifts as soon as a duration field is added.
// zod-problems.ts uses it to say what a duration looks like when such a key gets a bad number.
import type { z } from 'zod';
import { Duration, Pipeline, TimerDuration } from './schema.js';
import { defOf } from './zod-def.js';

const DURATIONS: ReadonlySet<z.ZodType> = new Set([Duration, TimerDuration]);

/** The schema a field's wrappers (optional, nullable, default) hold. */
function unwrapped(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let def = defOf(current); def.innerType && ['optional', 'nullable', 'default'].includes(def.type); ) {
    current = def.innerType;
    def = defOf(current);
  }
  return current;
}

/** Every key under `root` whose value is a duration, at any depth (inline pipelines included). */
export function durationKeysOf(root: z.ZodType): Set<string> {
  const keys = new Set<string>();
  const seen = new Set<z.ZodType>();
  const visit = (schema: z.ZodType | undefined): void => {
    if (schema === undefined || seen.has(schema) || DURATIONS.has(schema)) return;
    seen.add(schema);
    const def = defOf(schema);
    for (const [key, field] of Object.entries(def.shape ?? {})) {
      if (DURATIONS.has(unwrapped(field))) keys.add(key);
      visit(field);
    }
    for (const inner of [def.innerType, def.element, def.valueType, def.in, def.out]) visit(inner);
    for (const option of def.options ?? []) visit(option);
    if (def.type === 'lazy' && def.getter) visit(def.getter());
  };
  visit(root);
  return keys;
}

let pipelineKeys: ReadonlySet<string> | undefined;

/** The duration keys of a pipeline document (walked once, when first asked). */
export function pipelineDurationKeys(): ReadonlySet<string> {
  pipelineKeys ??= durationKeysOf(Pipeline);
  return pipelineKeys;
}
