import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { PIPELINE_SCHEMA_ID, pipelineJsonSchemaText } from '../../src/config/json-schema.js';
import { runMain } from './run-main.js';

const committedPath = join(import.meta.dirname, '..', '..', 'schema', 'pipeline.schema.json');

describe('elexirion schema', () => {
  it('prints a draft 2020-12 JSON Schema with an $id and a title', async () => {
    const result = await runMain(['schema']);
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(PIPELINE_SCHEMA_ID);
    expect(schema.title).toBe('Elexirion pipeline');
    // It compiles as a schema, and it is the schema of the whole format (steps and their types).
    const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(schema);
    expect(validate({ name: 'ok', steps: [{ name: 'a', type: 'mock', prompt: 'hi' }] })).toBe(true);
    expect(validate({ name: 'ok', steps: [] })).toBe(false);
  });

  it('schema/pipeline.schema.json is the schema generated from the zod schema', () => {
    const committed = readFileSync(committedPath, 'utf8');
    const generated = pipelineJsonSchemaText();
    // Not toBe: the message must say how to fix the drift.
    if (committed !== generated) {
      expect.fail('schema/pipeline.schema.json is out of date with src/config/schema.ts: run `npm run schema:write`');
    }
  });
});
