// The engine reads its configuration from the Env it is given, never from process.env behind its
// back — and the vendor SDKs would: ANTHROPIC_CUSTOM_HEADERS, OPENAI_CUSTOM_HEADERS, OPENAI_ORG_ID,
// OPENAI_PROJECT_ID, the *_BASE_URL variables, GOOGLE_GENAI_USE_VERTEXAI … (src/providers/sdk-env.ts).
// Here process.env holds all of them, pointing at a decoy server and carrying an operator's
// gateway credentials; what each fake receives shows that none of it is used, that the settings
// the Env gives are, and that those go to the operator's endpoint only, never to a base_url a
// pipeline declares. At the protocol level, through createProvider as the engine builds providers.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GeminiProvider } from '../../src/providers/gemini.js';
import type { Provider } from '../../src/providers/provider.js';
import { createProvider } from '../../src/providers/registry.js';
import type { Env } from '../../src/providers/settings.js';
import { closePools } from '../../src/resilience/connection-pool.js';
import { AnthropicFake, type FakeServer, GeminiFake, OpenAIFake } from '../fakes/index.js';

const anthropic = new AnthropicFake();
const openai = new OpenAIFake();
const gemini = new GeminiFake();
/** Where process.env's base URLs point: it must never see a request. */
const decoy = new OpenAIFake();
const FAKES: FakeServer[] = [anthropic, openai, gemini, decoy];

/** The operator's shell, as the SDKs would read it. */
function processEnv(): Record<string, string> {
  return {
    ANTHROPIC_CUSTOM_HEADERS: 'X-Gateway-Auth: gw-secret-anthropic-123456\nX-Team: process-env',
    OPENAI_CUSTOM_HEADERS: 'X-Gateway-Auth: gw-secret-openai-123456',
    OPENAI_ORG_ID: 'org-from-process-env',
    OPENAI_PROJECT_ID: 'proj-from-process-env',
    OPENAI_ADMIN_KEY: 'sk-admin-from-process-env',
    ANTHROPIC_AUTH_TOKEN: 'token-from-process-env',
    ANTHROPIC_BASE_URL: decoy.baseUrl,
    OPENAI_BASE_URL: `${decoy.baseUrl}/v1`,
    GOOGLE_GEMINI_BASE_URL: decoy.baseUrl,
    GOOGLE_GENAI_USE_VERTEXAI: 'true',
    GOOGLE_CLOUD_PROJECT: 'project-from-process-env',
    GOOGLE_CLOUD_LOCATION: 'us-central1',
  };
}

let saved: Record<string, string | undefined> = {};
beforeAll(async () => {
  await Promise.all(FAKES.map((f) => f.start()));
});
beforeEach(() => {
  for (const f of FAKES) f.reset();
  const vars = processEnv();
  saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
});
afterEach(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await closePools();
});
afterAll(async () => {
  await Promise.all(FAKES.map((f) => f.stop()));
});

const ask = (provider: string, model: string) => ({
  provider,
  model,
  messages: [{ role: 'user' as const, content: 'hi' }],
});

/** Makes one call; the headers the server saw. */
async function headersSeen(provider: Provider, name: string, model: string, fake: FakeServer) {
  await provider.generate(ask(name, model), AbortSignal.timeout(5000));
  expect(fake.requests).toHaveLength(1);
  return fake.requests[0]?.headers ?? {};
}

describe('a base_url the pipeline declares gets nothing of the operator’s environment', () => {
  const env: Env = { PIPELINE_KEY: 'pipeline-own-key-1234' };

  it('anthropic: no custom headers, no auth token, the key it names', async () => {
    const p = createProvider(
      'claude',
      { type: 'anthropic', base_url: anthropic.baseUrl, api_key_env: 'PIPELINE_KEY' },
      env,
    );
    const h = await headersSeen(p, 'claude', 'claude-haiku-4-5', anthropic);
    expect(h['x-gateway-auth']).toBeUndefined();
    expect(h['x-team']).toBeUndefined();
    expect(h.authorization).toBe('Bearer pipeline-own-key-1234');
    expect(decoy.requests).toHaveLength(0);
  });

  it('openai: no custom headers, organization, project or admin key', async () => {
    const p = createProvider('local', { type: 'openai', base_url: `${openai.baseUrl}/v1` }, env); // keyless
    const h = await headersSeen(p, 'local', 'llama3', openai);
    expect(h['x-gateway-auth']).toBeUndefined();
    expect(h['openai-organization']).toBeUndefined();
    expect(h['openai-project']).toBeUndefined();
    expect(String(h.authorization)).not.toMatch(/admin|gw-secret/);
    expect(decoy.requests).toHaveLength(0);
  });

  it('gemini: the Gemini API at that base_url, not Vertex AI', async () => {
    const p = createProvider('gem', { type: 'gemini', base_url: gemini.baseUrl, api_key_env: 'PIPELINE_KEY' }, env);
    const h = await headersSeen(p, 'gem', 'gemini-2.5-flash', gemini);
    expect(gemini.requests[0]?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(h['x-goog-api-key']).toBe('pipeline-own-key-1234');
    expect(decoy.requests).toHaveLength(0);
  });
});

describe('the operator’s endpoint gets the operator’s settings — from the Env, not process.env', () => {
  it('anthropic: ANTHROPIC_BASE_URL and ANTHROPIC_CUSTOM_HEADERS of the Env', async () => {
    const env: Env = {
      ANTHROPIC_API_KEY: 'sk-ant-env-0123456789',
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
      ANTHROPIC_CUSTOM_HEADERS: 'X-Gateway-Auth: gw-from-env',
    };
    const h = await headersSeen(
      createProvider('anthropic', undefined, env),
      'anthropic',
      'claude-haiku-4-5',
      anthropic,
    );
    expect(h['x-gateway-auth']).toBe('gw-from-env');
    expect(h['x-team']).toBeUndefined(); // process.env's other header: not the Env's
    expect(h.authorization).toBe('Bearer sk-ant-env-0123456789');
    expect(decoy.requests).toHaveLength(0);
  });

  it('openai: OPENAI_BASE_URL, OPENAI_CUSTOM_HEADERS, OPENAI_ORG_ID and OPENAI_PROJECT_ID of the Env', async () => {
    const env: Env = {
      OPENAI_API_KEY: 'sk-openai-env-0123456789',
      OPENAI_BASE_URL: `${openai.baseUrl}/v1`,
      OPENAI_CUSTOM_HEADERS: 'X-Gateway-Auth: gw-from-env',
      OPENAI_ORG_ID: 'org-from-env',
    };
    const h = await headersSeen(createProvider('openai', undefined, env), 'openai', 'gpt-4o-mini', openai);
    expect(h['x-gateway-auth']).toBe('gw-from-env');
    expect(h['openai-organization']).toBe('org-from-env');
    expect(h['openai-project']).toBeUndefined(); // set in process.env only
    expect(h.authorization).toBe('Bearer sk-openai-env-0123456789');
    expect(decoy.requests).toHaveLength(0);
  });

  it('gemini: GOOGLE_GEMINI_BASE_URL of the Env; the Gemini API, whatever GOOGLE_GENAI_USE_VERTEXAI says', async () => {
    const env: Env = { GEMINI_API_KEY: 'AIza-env-0123456789', GOOGLE_GEMINI_BASE_URL: gemini.baseUrl };
    const h = await headersSeen(createProvider('gemini', undefined, env), 'gemini', 'gemini-2.5-flash', gemini);
    expect(gemini.requests[0]?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(h['x-goog-api-key']).toBe('AIza-env-0123456789');
    expect(decoy.requests).toHaveLength(0);
  });

  it('gemini without a base URL anywhere in the Env: the Gemini API’s own host, not process.env’s nor Vertex’s', async () => {
    const urls: string[] = [];
    const spy = (async (input: string | URL | Request) => {
      urls.push(String(input));
      return new Response(JSON.stringify({ error: { code: 401, message: 'stop here', status: 'UNAUTHENTICATED' } }), {
        status: 401,
        headers: { 'content-type': 'application/json' },
      });
    }) as typeof fetch;
    const p = new GeminiProvider({ apiKey: 'AIza-test-0123456789', fetch: spy });
    await expect(p.generate(ask('gemini', 'gemini-2.5-flash'), AbortSignal.timeout(5000))).rejects.toMatchObject({
      kind: 'auth',
    });
    expect(urls).toEqual(['https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent']);
  });
});
