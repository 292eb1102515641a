// The JSON Schema of the pipeline format, generated from the zod schema (the single source of
// truth) for editors (`# yaml-language-server: $schema=…`) and shipped as schema/pipeline.schema.json.
import { z } from 'zod';
import { Pipeline } from './schema.js';

export const PIPELINE_SCHEMA_ID = 'https://unpkg.com/elexirion/schema/pipeline.schema.json';

export function pipelineJsonSchema(): Record<string, unknown> {
  // io: 'input' describes what a user may write (before any transform).
  const generated = z.toJSONSchema(Pipeline, {
    target: 'draft-2020-12',
    io: 'input',
    // Shared parts (durations, retry, the call keys) become $defs instead of being repeated.
    reused: 'ref',
  }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: PIPELINE_SCHEMA_ID,
    title: 'Elexirion pipeline',
    description: 'A pipeline of LLM calls and glue steps run by Elexirion. Reference: docs/pipeline-format.md.',
    ...rest,
  };
}

/** The text of schema/pipeline.schema.json: what `elexirion schema` prints. */
export function pipelineJsonSchemaText(): string {
  return `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`;
}
