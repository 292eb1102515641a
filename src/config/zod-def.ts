// zod's runtime definition of a schema, as the walkers over the pipeline schema read it
// (schema-keys.ts: the keys a mapping allows; duration-keys.ts: the keys that take a duration).
// zod 4 keeps it at `_zod.def`; only the members these walkers follow are typed.
import type { z } from 'zod';

export interface ZodDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  getter?: () => z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  values?: unknown[];
  in?: z.ZodType;
  out?: z.ZodType;
}

export const defOf = (schema: z.ZodType): ZodDef => (schema as unknown as { _zod: { def: ZodDef } })._zod.def;
