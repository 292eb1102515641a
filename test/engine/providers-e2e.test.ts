// Issue 4's "done when": with the fake servers reached through the standard environment variables,
// a pipeline mixing claude, gemini, gemini_structured, gemini_function and openai steps runs end to
// end through the engine and the real SDKs, and reports tokens and cost per step.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { defaultAnswer } from '../fakes/answer.js';
import { AnthropicFake, GeminiFake, OpenAIFake } from '../fakes/index.js';
import { useFakeVendors } from './fake-vendors.js';
import { newEngine, step, tempDir } from './harness.js';

const anthropic = new AnthropicFake();
const gemini = new GeminiFake();
const openai = new OpenAIFake();
const vendors = useFakeVendors({ anthropic, gemini, openai });

const PIPELINE = `
name: mixed
inputs:
  topic: { type: string, default: journals }
steps:
  - name: draft
    type: claude
    model: claude-sonnet-4-5
    max_tokens: 200
    prompt: "Draft a note about {{ topic }}."
  - name: critique
    type: gemini
    model: gemini-2.5-flash
    prompt: "Critique: {{ steps.draft.output }}"
  - name: verdict
    type: gemini_structured
    model: gemini-2.5-flash
    prompt: "Verdict on: {{ steps.critique.output }}"
    schema:
      type: object
      required: [verdict]
      properties:
        verdict: { type: string, enum: [ok, needs_work] }
  - name: research
    type: gemini_function
    model: gemini-2.5-pro
    prompt: "Read notes.txt and summarize it."
    tools: [read_file]
    max_turns: 3
  - name: polish
    type: openai
    model: gpt-4.1-mini
    prompt: "Polish: {{ steps.draft.output }} ({{ steps.verdict.output.verdict }}; {{ steps.research.output }})"
outputs:
  verdict: "{{ steps.verdict.output.verdict }}"
  final: "{{ steps.polish.output }}"
`;

describe('a mixed-provider pipeline against the fake servers, through the SDKs', () => {
  it('runs end to end and reports tokens and cost per step', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'The journal commits every step before the next one reads it.');
    const file = join(dir, 'mixed.yaml');
    writeFileSync(file, PIPELINE);
    // The function-calling step: the model first asks for the file, then answers.
    gemini.setScript((_request, digest) =>
      digest.model.includes('pro') && !digest.lastUserText.includes('journal commits')
        ? { toolCalls: [{ name: 'read_file', arguments: { path: 'notes.txt' } }] }
        : defaultAnswer(digest),
    );

    const engine = newEngine({ env: vendors.env });
    const result = await (await engine.start(loadPipelineFromString(PIPELINE, file))).result;

    expect(result.error ?? '').toBe('');
    expect(result.status).toBe('succeeded');
    expect(['ok', 'needs_work']).toContain(result.outputs.verdict);
    expect(String(result.outputs.final)).toContain('echo: Polish');

    for (const name of ['draft', 'critique', 'verdict', 'research', 'polish']) {
      const s = step(result, name);
      expect(s.usage.input_tokens, name).toBeGreaterThan(0);
      expect(s.usage.output_tokens, name).toBeGreaterThan(0);
      expect(s.cost_usd, `${name} is priced from the table`).toBeGreaterThan(0);
    }
    expect(step(result, 'draft').details).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-4-5' });
    expect(step(result, 'polish').details).toMatchObject({ provider: 'openai' });
    // The tool loop: two calls to Gemini for the research step, the second carrying the file.
    expect(step(result, 'research').details?.calls).toBe(2);
    const toolAnswer = gemini.requests.map((r) => JSON.stringify(r.body)).find((b) => b.includes('journal commits'));
    expect(toolAnswer, 'the file content went back to the model').toBeDefined();
    expect(result.totals.cost_usd).toBeCloseTo(
      result.steps.reduce((sum, s) => sum + (s.cost_usd ?? 0), 0),
      5, // each figure is rounded to micro-dollars on its own
    );
    expect(result.totals.unpriced_calls).toBe(0);
    // Every request reached its vendor through the variables, keyed as the vendor expects.
    const anthropicAuth = anthropic.requests[0]?.headers;
    expect(`${anthropicAuth?.['x-api-key'] ?? ''} ${anthropicAuth?.authorization ?? ''}`).toContain(
      'fake-anthropic-key',
    );
    expect(openai.requests[0]?.headers.authorization).toBe('Bearer fake-openai-key');
  });

  it('a provider pointed elsewhere is never answered from another endpoint’s cached calls; its replay needs no key', async () => {
    const other = new OpenAIFake();
    const otherUrl = `${await other.start()}/v1`;
    try {
      openai.setScript(() => ({ text: 'from the first server' }));
      other.setScript(() => ({ text: 'from the second server' }));
      const at = (url: string) =>
        `name: local\nproviders:\n  local: { type: openai, base_url: "${url}", api_key_env: OPENAI_API_KEY }\nsteps:\n  - name: ask\n    type: llm\n    provider: local\n    model: m-1\n    prompt: same question\n`;
      const dir = tempDir();
      const engine = newEngine({ env: vendors.env }); // one engine, one journal: one call cache
      const first = await (
        await engine.start(loadPipelineFromString(at(vendors.env.OPENAI_BASE_URL as string), join(dir, 'a.yaml')))
      ).result;
      const cassette = join(dir, 'second.cassette');
      const { CassetteRecorder, CassettePlayer } = await import('../../src/journal/cassette.js');
      const second = await (
        await engine.start(loadPipelineFromString(at(otherUrl), join(dir, 'b.yaml')), {
          record: new CassetteRecorder(cassette),
        })
      ).result;
      expect(step(first, 'ask').output).toBe('from the first server');
      expect(step(second, 'ask').output).toBe('from the second server'); // not the first one's record
      expect(step(second, 'ask').details?.cache_hits).toBe(0);
      expect(other.requests).toHaveLength(1);

      // Offline in CI: no key, nothing called, the same endpoint's record answers.
      const { OPENAI_API_KEY: _key, ...keyless } = vendors.env;
      const replayed = await (
        await newEngine({ env: keyless }).start(loadPipelineFromString(at(otherUrl), join(dir, 'c.yaml')), {
          replay: new CassettePlayer(cassette),
        })
      ).result;
      expect(replayed.error ?? '').toBe('');
      expect(step(replayed, 'ask').output).toBe('from the second server');
      expect(other.requests).toHaveLength(1);
    } finally {
      openai.setScript(undefined);
      await other.stop();
    }
  });
});
