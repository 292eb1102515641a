// A fallback inherits every key of its step, `generation_config` included — Gemini's generationConfig.
// Anthropic and OpenAI refuse a request with a top-level field they do not know (400 "Extra inputs are
// not permitted" / "Unrecognized request argument supplied"), so sent to them it made every Claude or
// OpenAI fallback of a Gemini step fail. The engine builds a vendor's extras only for a provider of
// that vendor's type. The fakes here refuse `generation_config` as the real APIs do.
import { describe, expect, it } from 'vitest';
import { AnthropicFake, faults, GeminiFake, OpenAIFake, type RecordedRequest, type Route } from '../fakes/index.js';
import { useFakeVendors } from './fake-vendors.js';
import { newEngine, runYaml, step } from './harness.js';

const hasGenerationConfig = (request: RecordedRequest) =>
  typeof request.body === 'object' && request.body !== null && 'generation_config' in request.body;

class StrictAnthropic extends AnthropicFake {
  protected override refuse(request: RecordedRequest, route: Route) {
    if (hasGenerationConfig(request))
      return { status: 400, message: 'generation_config: Extra inputs are not permitted' };
    return super.refuse(request, route);
  }
}
class StrictOpenAI extends OpenAIFake {
  protected override refuse(request: RecordedRequest, route: Route) {
    if (hasGenerationConfig(request))
      return { status: 400, message: 'Unrecognized request argument supplied: generation_config' };
    return super.refuse(request, route);
  }
}

const anthropic = new StrictAnthropic();
const gemini = new GeminiFake();
const openai = new StrictOpenAI();
const vendors = useFakeVendors({ anthropic, gemini, openai });

const geminiStep = (fallback: string) => `
name: gc-fallback
steps:
  - name: answer
    type: gemini
    model: gemini-2.5-pro
    prompt: Explain durable execution.
    generation_config: { topK: 3 }
    retry: { max_attempts: 1 }
    on_error: fallback
    fallback: ${fallback}
`;

describe("a Gemini step's generation_config and its fallbacks", () => {
  it.each([
    { label: 'claude', fallback: '{ type: claude, model: claude-haiku-4-5 }', fake: () => anthropic },
    { label: 'openai', fallback: '{ type: openai, model: gpt-4.1-mini }', fake: () => openai },
  ])('a $label fallback is sent without it, and answers', async ({ fallback, fake }) => {
    gemini.setFaultMode(faults.badRequest('model gemini-2.5-pro is not available in your region'));

    const result = await runYaml(newEngine({ env: vendors.env }), geminiStep(fallback));

    expect(result.error ?? '').toBe('');
    expect(result.status).toBe('succeeded');
    expect(step(result, 'answer').details).toMatchObject({ fallback: 0 });
    // Gemini got it, in its generationConfig; the fallback's vendor did not.
    const sentToGemini = gemini.requests[0]?.body as { generationConfig?: Record<string, unknown> };
    expect(sentToGemini.generationConfig).toMatchObject({ topK: 3 });
    expect(fake().requests).toHaveLength(1);
    expect(hasGenerationConfig(fake().requests[0] as RecordedRequest)).toBe(false);
  });

  it('a provider declared with type gemini gets it; a Gemini fallback keeps it', async () => {
    gemini.injectFault(faults.badRequest('first model unavailable'));
    const result = await runYaml(
      newEngine({ env: vendors.env }),
      `
name: gc-declared
providers:
  google: { type: gemini }
steps:
  - name: answer
    type: gemini
    provider: google
    model: gemini-2.5-pro
    prompt: Explain durable execution.
    generation_config: { topK: 3 }
    retry: { max_attempts: 1 }
    on_error: fallback
    fallback: { model: gemini-2.5-flash }
`,
    );

    expect(result.status).toBe('succeeded');
    expect(gemini.requests).toHaveLength(2);
    for (const request of gemini.requests) {
      expect((request.body as { generationConfig?: Record<string, unknown> }).generationConfig).toMatchObject({
        topK: 3,
      });
    }
  });
});
