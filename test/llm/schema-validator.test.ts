// The validator every structured answer and tool call passes: one ajv for the whole process, so it
// must survive what a long-lived process is sent — schemas sharing an `$id`, and many of them.
import { describe, expect, it } from 'vitest';
import { compiledSchemaCount, MAX_COMPILED_SCHEMAS, schemaErrors } from '../../src/llm/schema-validator.js';
import { newEngine, runYaml, step } from '../engine/harness.js';

const finding = (type: string) => ({
  $id: 'https://example.test/finding.json',
  type: 'object',
  properties: { n: { type }, item: { $ref: 'item.json' } },
  required: ['n'],
  $defs: { item: { $id: 'item.json', type } },
});

describe('schema validator', () => {
  it('validates two different schemas that share an $id, each by its own rules', () => {
    expect(schemaErrors(finding('number'), { n: 1, item: 2 })).toEqual([]);
    // Before: "schema with key or id https://example.test/finding.json already exists".
    expect(schemaErrors(finding('string'), { n: 'x', item: 'y' })).toEqual([]);
    expect(schemaErrors(finding('string'), { n: 1 })).toEqual(['/n: must be string']);
    // A schema's own $ref to its own nested $id still resolves to its own definition.
    expect(schemaErrors(finding('string'), { n: 'x', item: 3 })).toEqual(['/item: must be string']);
    expect(schemaErrors(finding('number'), { n: 1, item: 'y' })).toEqual(['/item: must be number']);
  });

  it('keeps a bounded number of compiled schemas, and one dropped compiles again when it returns', () => {
    const first = { type: 'object', properties: { first: { type: 'integer' } } };
    expect(schemaErrors(first, { first: 'x' })).toEqual(['/first: must be integer']);
    for (let i = 0; i < MAX_COMPILED_SCHEMAS + 20; i++) {
      schemaErrors({ type: 'object', properties: { [`k${i}`]: { type: 'string' } } }, {});
    }
    expect(compiledSchemaCount()).toBeLessThanOrEqual(MAX_COMPILED_SCHEMAS);
    // A copy (not the same object) of the evicted first schema: compiled again, same verdict.
    expect(schemaErrors(structuredClone(first), { first: 'x' })).toEqual(['/first: must be integer']);
  });

  it('runs a pipeline whose two steps use different schemas with the same $id', async () => {
    const shaped = (type: string) => ({
      $id: 'https://example.test/verdict.json',
      type: 'object',
      properties: { n: { type } },
      required: ['n'],
    });
    const yaml = `name: same-id
steps:
  - name: a
    type: mock
    prompt: first
    schema: ${JSON.stringify(shaped('number'))}
  - name: b
    type: mock
    prompt: second
    schema: ${JSON.stringify(shaped('string'))}
`;
    const result = await runYaml(newEngine(), yaml, { mock: true });
    expect(result.status, result.error).toBe('succeeded');
    expect(typeof (step(result, 'a').output as { n: unknown }).n).toBe('number');
    expect(typeof (step(result, 'b').output as { n: unknown }).n).toBe('string');
  });
});
