// A schema whose root is not an object travels to Claude and OpenAI wrapped as { value: schema }.
// Its references must still resolve in the wrapper: `$defs` / `definitions` go up to the wrapper's
// root, and a reference to the root itself (a recursive schema) is pointed at the root's new place.
// The sent schema is compiled with ajv (as users' schemas are at load time) and must accept exactly
// the wrapped instances the user's schema accepts.
import { describe, expect, it } from 'vitest';
import { createUserSchemaAjv, jsonSchemaErrors } from '../../src/config/user-schema.js';
import { objectRootSchema } from '../../src/providers/structured-schema.js';
import { request, subjects } from './harness.js';

const finding = {
  type: 'object',
  required: ['file', 'line'],
  properties: { file: { type: 'string' }, line: { type: 'integer' } },
};

/** A user schema, and instances that it accepts or refuses. */
interface Case {
  name: string;
  schema: Record<string, unknown>;
  instances: unknown[];
}

const cases: Case[] = [
  {
    name: '$defs',
    schema: { type: 'array', items: { $ref: '#/$defs/finding' }, $defs: { finding } },
    instances: [[], [{ file: 'a.ts', line: 3 }], [{ file: 'a.ts' }], [{ file: 'a.ts', line: 'x' }], 'nope'],
  },
  {
    name: 'draft-07 definitions',
    schema: { type: 'array', items: { $ref: '#/definitions/finding' }, definitions: { finding } },
    instances: [[{ file: 'a.ts', line: 3 }], [{ line: 3 }]],
  },
  {
    name: 'a recursive root ($ref: "#")',
    schema: { type: 'array', items: { anyOf: [{ type: 'integer' }, { $ref: '#' }] } },
    instances: [[1, [2, [3]]], [1, ['x']], [], 1],
  },
  {
    name: 'a recursive $def that refers to the root',
    schema: {
      type: 'array',
      items: { $ref: '#/$defs/node' },
      $defs: { node: { type: 'object', properties: { name: { type: 'string' }, children: { $ref: '#' } } } },
    },
    instances: [[{ name: 'a', children: [{ name: 'b', children: [] }] }], [{ name: 'a', children: [{ name: 1 }] }]],
  },
  {
    name: 'a pointer into the root, a $defs entry named "value", and data that looks like a $ref',
    schema: {
      type: 'array',
      items: { type: 'string', minLength: 2 },
      contains: { $ref: '#/items' },
      default: [{ $ref: '#' }],
      $defs: { value: { const: 'taken' } },
    },
    instances: [['ab'], ['a'], [1]],
  },
  {
    name: 'a root $id, referred to by absolute URI',
    schema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'https://example.com/findings.json',
      anyOf: [
        { type: 'null' },
        { type: 'array', items: { $ref: 'https://example.com/findings.json#/$defs/finding' } },
        { type: 'array', items: { $ref: 'https://example.com/findings.json' }, minItems: 1 },
      ],
      $defs: { finding },
    },
    instances: [null, [{ file: 'a', line: 1 }], [[null]], [[]], [{ file: 'a' }]],
  },
  {
    name: 'a string enum',
    schema: { enum: ['low', 'high'] },
    instances: ['low', 'mid'],
  },
];

describe('objectRootSchema', () => {
  it.each(cases)('wraps $name into a valid, equivalent object schema', ({ schema, instances }) => {
    expect(jsonSchemaErrors(schema)).toEqual([]);
    const wrapped = objectRootSchema(schema);
    expect(wrapped.schema.type).toBe('object');
    expect(jsonSchemaErrors(wrapped.schema)).toEqual([]);
    const user = createUserSchemaAjv().compile(schema);
    const sent = createUserSchemaAjv().compile(wrapped.schema);
    for (const instance of instances) {
      expect({ instance, valid: sent({ value: instance }) }).toEqual({ instance, valid: user(instance) });
      expect(wrapped.unwrap({ value: instance })).toEqual(instance);
    }
    expect(sent({})).toBe(false);
  });

  it('sends an object root as it is', () => {
    const schema = { type: 'object', properties: { a: { $ref: '#' } }, $defs: { x: {} } };
    const root = objectRootSchema(schema);
    expect(root.schema).toBe(schema);
    expect(root.unwrap({ a: {} })).toEqual({ a: {} });
  });

  it('keeps a subschema with its own $id as it is: its "#" is itself', () => {
    const own = { $id: 'https://example.com/own.json', type: 'array', items: { $ref: '#' } };
    const wrapped = objectRootSchema({ type: 'array', items: { $ref: '#/$defs/own' }, $defs: { own } });
    expect((wrapped.schema.$defs as Record<string, unknown>).own).toBe(own);
    expect(jsonSchemaErrors(wrapped.schema)).toEqual([]);
  });
});

const all = subjects().filter((s) => s.name !== 'gemini');

function sentSchema(name: string, body: unknown): Record<string, unknown> | undefined {
  const b = body as {
    tools?: Array<{ name: string; input_schema: Record<string, unknown> }>;
    response_format?: { json_schema: { schema: Record<string, unknown> } };
  };
  return name === 'anthropic'
    ? b.tools?.find((t) => t.name === 'structured_output')?.input_schema
    : b.response_format?.json_schema.schema;
}

describe.each(all)('$name: a non-object root schema with references', (subject) => {
  it.each(cases.slice(0, 4))('sends $name so that its references resolve, and unwraps the answer', async (c) => {
    const answer = c.instances[0];
    subject.fake.queueAnswers({ json: { value: answer } });
    const res = await subject.provider().generate(request(subject, { schema: c.schema }), AbortSignal.timeout(5000));
    const sent = sentSchema(subject.name, subject.fake.requests[0]?.body);
    expect(sent).toBeDefined();
    expect(jsonSchemaErrors(sent)).toEqual([]);
    expect(createUserSchemaAjv().compile(sent as object)({ value: answer })).toBe(true);
    expect(res.object).toEqual(answer);
  });
});
