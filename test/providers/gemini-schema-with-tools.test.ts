// A step with both `tools:` and `schema:` on Gemini. Before Gemini 3 the API refuses function
// declarations together with JSON mode (400 "Function calling with a response mime type:
// 'application/json' is unsupported", every time): on those models the schema is asked for in the
// system instruction instead and the JSON text is parsed (the call loop validates and repairs it, as
// any answer). Gemini 3 takes both, and keeps JSON mode.
import { describe, expect, it } from 'vitest';
import { collect, request, subjects } from './harness.js';

const subject = subjects().find((s) => s.name === 'gemini');
if (!subject) throw new Error('no gemini subject');
const { fake } = subject;

interface SentBody {
  generationConfig?: Record<string, unknown>;
  systemInstruction?: { parts: Array<{ text: string }> };
  tools?: Array<{ functionDeclarations: Array<{ name: string }> }>;
}

const tools = [{ name: 'lookup', description: 'Look up', parameters: { type: 'object' } }];
const schema = { type: 'object', properties: { verdict: { type: 'string' } }, required: ['verdict'] };

describe('gemini provider: tools and a schema in one request', () => {
  it.each(['generate', 'stream'] as const)(
    'before Gemini 3: the schema goes in the system instruction, not JSON mode (%s)',
    async (how) => {
      fake.queueAnswers({ text: '```json\n{"verdict":"ok"}\n```' });
      const ask = request(subject, { model: 'gemini-2.5-flash', system: 'Be brief.', tools, schema });
      const res =
        how === 'generate'
          ? await subject.provider().generate(ask, AbortSignal.timeout(5000))
          : (await collect(subject.provider().stream(ask, AbortSignal.timeout(5000)))).done;
      expect(res?.object).toEqual({ verdict: 'ok' });
      const body = fake.requests[0]?.body as SentBody;
      expect(body.generationConfig?.responseMimeType).toBeUndefined();
      expect(body.generationConfig?.responseJsonSchema).toBeUndefined();
      expect(body.tools?.[0]?.functionDeclarations.map((f) => f.name)).toEqual(['lookup']);
      const system = body.systemInstruction?.parts.map((p) => p.text).join('\n') ?? '';
      expect(system).toContain('Be brief.');
      expect(system).toContain(JSON.stringify(schema));
    },
  );

  it('from Gemini 3: JSON mode with the schema, beside the tools', async () => {
    fake.queueAnswers({ json: { verdict: 'ok' } });
    const res = await subject
      .provider()
      .generate(request(subject, { model: 'gemini-3-pro-preview', tools, schema }), AbortSignal.timeout(5000));
    expect(res.object).toEqual({ verdict: 'ok' });
    const body = fake.requests[0]?.body as SentBody;
    expect(body.generationConfig).toMatchObject({ responseMimeType: 'application/json', responseJsonSchema: schema });
    expect(body.systemInstruction).toBeUndefined();
  });

  it('without tools: JSON mode on every model', async () => {
    await subject
      .provider()
      .generate(request(subject, { model: 'gemini-2.5-flash', schema }), AbortSignal.timeout(5000));
    const body = fake.requests[0]?.body as SentBody;
    expect(body.generationConfig).toMatchObject({ responseMimeType: 'application/json', responseJsonSchema: schema });
  });
});
