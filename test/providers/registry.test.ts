// Resolving providers from names, the `providers:` section and the environment, and the key check
// that runs before a run starts.
import { describe, expect, it } from 'vitest';
import type { Pipeline } from '../../src/config/schema.js';
import { ElexirionError, ExitCode } from '../../src/errors.js';
import type { Provider } from '../../src/providers/provider.js';
import { createProvider } from '../../src/providers/registry.js';
import { missingKeyError, resolveProviderSettings } from '../../src/providers/settings.js';
import { assertProviderKeys, checkProviderKeys, providerNameFor } from '../../src/providers/step-providers.js';
import { OpenAIFake } from '../fakes/index.js';
import { request, subjects as subjectsForEnv } from './harness.js';

function thrown(fn: () => unknown): ElexirionError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ElexirionError) return err;
    throw err;
  }
  throw new Error('expected an ElexirionError');
}

describe('provider settings', () => {
  it('reads keys and base URLs from the standard variables', () => {
    const env = { GEMINI_API_KEY: 'g', GOOGLE_GEMINI_BASE_URL: 'http://gem', ANTHROPIC_API_KEY: 'a' };
    expect(resolveProviderSettings('gemini', undefined, env)).toMatchObject({ apiKey: 'g', baseUrl: 'http://gem' });
    expect(resolveProviderSettings('gemini', undefined, { GOOGLE_API_KEY: 'k' }).apiKey).toBe('k');
    expect(resolveProviderSettings('anthropic', undefined, env)).toMatchObject({ apiKey: 'a' });
    expect(resolveProviderSettings('anthropic', undefined, env).baseUrl).toBeUndefined();
  });

  it('lets the providers section choose the variable and the URL', () => {
    const s = resolveProviderSettings(
      'work',
      { type: 'anthropic', api_key_env: 'WORK_KEY', base_url: 'http://proxy' },
      {
        WORK_KEY: 'w',
        ANTHROPIC_API_KEY: 'not this one',
      },
    );
    expect(s).toMatchObject({ type: 'anthropic', apiKey: 'w', baseUrl: 'http://proxy', keyVariables: ['WORK_KEY'] });
  });

  it("sends a key to a pipeline's own base_url only when api_key_env names it", () => {
    const env = { OPENAI_API_KEY: 'sk-openai', ANTHROPIC_API_KEY: 'sk-ant' };
    // A third party speaking the OpenAI protocol does not get the OpenAI key by default.
    const groq = resolveProviderSettings('groq', { type: 'openai', base_url: 'https://api.groq.com/openai/v1' }, env);
    expect(groq.apiKey).toBeUndefined();
    expect(groq.keyOptional).toBe(true);
    // Named, it does; the vendor's own host is still the vendor's (its standard key).
    expect(
      resolveProviderSettings('groq', { type: 'openai', base_url: 'https://x/v1', api_key_env: 'OPENAI_API_KEY' }, env)
        .apiKey,
    ).toBe('sk-openai');
    expect(resolveProviderSettings('openai', { base_url: 'https://api.openai.com/v1' }, env).apiKey).toBe('sk-openai');
    expect(resolveProviderSettings('anthropic', { base_url: 'https://api.anthropic.com' }, env).apiKey).toBe('sk-ant');
    // An operator's base URL from the environment keeps the standard key, as the vendors' SDKs do.
    expect(resolveProviderSettings('openai', undefined, { ...env, OPENAI_BASE_URL: 'http://proxy/v1' }).apiKey).toBe(
      'sk-openai',
    );
    // An Anthropic proxy without api_key_env has no key, and the error says what to add.
    const proxy = resolveProviderSettings('anthropic', { base_url: 'http://proxy' }, env);
    expect(proxy.apiKey).toBeUndefined();
    const err = missingKeyError(proxy);
    expect(err.message).toBe(
      'provider "anthropic" has a base_url but no api_key_env: a key is sent to http://proxy only when the pipeline names it',
    );
    expect(err.hint).toBe(
      "add api_key_env: ANTHROPIC_API_KEY (or the variable holding that endpoint's own key) to providers.anthropic",
    );
  });

  it('makes the key optional only for an openai-type provider on its own URL', () => {
    expect(
      resolveProviderSettings('ollama', { type: 'openai', base_url: 'http://localhost:11434/v1' }, {}).keyOptional,
    ).toBe(true);
    expect(resolveProviderSettings('openai', { base_url: 'https://api.openai.com/v1' }, {}).keyOptional).toBe(false);
    expect(resolveProviderSettings('openai', undefined, {}).keyOptional).toBe(false);
  });

  it('refuses a name that is neither built in nor declared with a type', () => {
    const err = thrown(() => resolveProviderSettings('ollama', undefined, {}));
    expect(err.message).toContain('unknown provider "ollama"');
    expect(err.hint).toContain('type: openai');
  });
});

describe('createProvider', () => {
  it('fails before any call when the key is missing, naming the variable to set', () => {
    const err = thrown(() => createProvider('anthropic', undefined, {}));
    expect(err.message).toContain('ANTHROPIC_API_KEY');
    expect(err.hint).toContain('export ANTHROPIC_API_KEY');
    expect(err.exitCode).toBe(ExitCode.invalidInput);
  });

  it('builds a declared openai-type provider that reaches its server keyless', async () => {
    const fake = new OpenAIFake();
    await fake.start();
    try {
      const provider = createProvider('ollama', { type: 'openai', base_url: `${fake.baseUrl}/v1` }, {});
      expect(provider.name).toBe('ollama');
      const res = await provider.generate(
        { provider: 'ollama', model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] },
        AbortSignal.timeout(5000),
      );
      expect(res.text).toBe('echo: hi');
      expect(fake.requests[0]?.path).toBe('/v1/chat/completions');
    } finally {
      await fake.stop();
    }
  });

  it('takes mock (and any override) from the factories map', () => {
    const stub = { name: 'mock' } as Provider;
    expect(createProvider('mock', undefined, {}, { mock: () => stub })).toBe(stub);
    expect(() => createProvider('mock', undefined, {})).toThrow(/no implementation registered/);
  });
});

describe('step → provider', () => {
  it('maps step types to providers', () => {
    expect(providerNameFor({ type: 'claude' })).toBe('anthropic');
    expect(providerNameFor({ type: 'gemini_structured' })).toBe('gemini');
    expect(providerNameFor({ type: 'gemini_function' })).toBe('gemini');
    expect(providerNameFor({ type: 'openai' })).toBe('openai');
    expect(providerNameFor({ type: 'mock', provider: 'anthropic' })).toBe('mock');
    expect(providerNameFor({ type: 'llm', provider: 'ollama' })).toBe('ollama');
    expect(providerNameFor({ type: 'llm' }, 'gemini')).toBe('gemini');
    expect(() => providerNameFor({ type: 'llm' })).toThrow(/needs a provider/);
  });

  const pipeline = {
    name: 'p',
    providers: { local: { type: 'openai', base_url: 'http://localhost:8000/v1' } },
    steps: [
      { name: 'a', type: 'claude', prompt: 'x' },
      {
        name: 'b',
        type: 'parallel',
        steps: [{ name: 'c', type: 'gemini', prompt: 'y', fallback: { type: 'openai', prompt: 'z' } }],
      },
      { name: 'd', type: 'llm', provider: 'local', prompt: 'w' },
      { name: 'e', type: 'mock', prompt: 'v' },
    ],
  } as Pipeline;

  it('lists every provider whose key is missing, with where it is used', () => {
    const problems = checkProviderKeys(pipeline, { GEMINI_API_KEY: 'g' });
    expect(problems.map((p) => [p.provider, p.path])).toEqual([
      ['anthropic', 'steps[0]'],
      ['openai', 'steps[1].steps[0].fallback[0]'],
    ]);
    expect(problems[1]?.hint).toContain('OPENAI_API_KEY');
  });

  it('passes when every key is set, and throws the first problem otherwise', () => {
    expect(checkProviderKeys(pipeline, { GEMINI_API_KEY: 'g', ANTHROPIC_API_KEY: 'a', OPENAI_API_KEY: 'o' })).toEqual(
      [],
    );
    const err = thrown(() => assertProviderKeys(pipeline, { GEMINI_API_KEY: 'g' }));
    expect(err.message).toContain('ANTHROPIC_API_KEY');
    expect(err.message).toContain('OPENAI_API_KEY');
  });

  it('names every missing provider with its variable, in the message and in the hint (was: "(and gemini)")', () => {
    const two = {
      name: 'p',
      steps: [
        { name: 'a', type: 'claude', prompt: 'x' },
        { name: 'b', type: 'gemini', prompt: 'y' },
      ],
    } as Pipeline;
    const err = thrown(() => assertProviderKeys(two, {}));
    expect(err.message).toBe(
      'providers "anthropic" and "gemini" have no API key: ANTHROPIC_API_KEY and GEMINI_API_KEY are not set',
    );
    expect(err.hint).toBe(
      'export ANTHROPIC_API_KEY=… and GEMINI_API_KEY=… (or GOOGLE_API_KEY) before running, or run with --mock to use no provider at all',
    );
    expect(err.exitCode).toBe(2);
    // One missing: as before.
    const one = thrown(() => assertProviderKeys(two, { GEMINI_API_KEY: 'g' }));
    expect(one.message).toBe('provider "anthropic" has no API key: ANTHROPIC_API_KEY is not set');
    expect(one.hint).toBe('export ANTHROPIC_API_KEY=… before running, or run with --mock to use no provider at all');
  });

  it('lists a problem other than an unset key in its own words beside the unset ones', () => {
    const mixed = {
      name: 'p',
      providers: { proxy: { type: 'anthropic', base_url: 'https://proxy.example.com' } },
      steps: [
        { name: 'a', type: 'claude', prompt: 'x' },
        { name: 'b', type: 'llm', provider: 'proxy', model: 'm', prompt: 'y' },
      ],
    } as Pipeline;
    const problems = checkProviderKeys(mixed, {});
    const err = thrown(() => assertProviderKeys(mixed, {}));
    expect(problems).toHaveLength(2);
    expect(err.message).toBe(`${problems[0]?.message}; ${problems[1]?.message}`);
    expect(err.hint).toBe(`${problems[0]?.hint}; ${problems[1]?.hint}`);
  });
});

describe('the provider a fallback calls', () => {
  // mergeFallback: a fallback of its step's type keeps the step's provider unless it names its own.
  it("is its step's own provider when it changes only the model, with no defaults.provider", () => {
    const pipeline = {
      name: 'p',
      providers: { fast: { type: 'openai' } },
      steps: [{ name: 'a', type: 'llm', provider: 'fast', prompt: 'x', fallback: { model: 'gpt-4.1' } }],
    } as unknown as Pipeline;
    expect(checkProviderKeys(pipeline, {}).map((p) => [p.provider, p.path])).toEqual([['fast', 'steps[0]']]);
    expect(checkProviderKeys(pipeline, { OPENAI_API_KEY: 'o' })).toEqual([]);
  });

  it("is the type's own when the fallback changes the type and names no provider", () => {
    const pipeline = {
      name: 'p',
      providers: { fast: { type: 'openai' } },
      steps: [{ name: 'a', type: 'llm', provider: 'fast', prompt: 'x', fallback: { type: 'claude' } }],
    } as unknown as Pipeline;
    expect(checkProviderKeys(pipeline, { OPENAI_API_KEY: 'o' }).map((p) => [p.provider, p.path])).toEqual([
      ['anthropic', 'steps[0].fallback[0]'],
    ]);
  });
});

describe('providers reached through the standard environment variables', () => {
  const all = subjectsForEnv();
  it.each(all)('$name answers through its SDK at the URL of its variable', async (subject) => {
    const env: Record<string, string> = {
      ANTHROPIC_API_KEY: 'k',
      ANTHROPIC_BASE_URL: all[0]?.fake.baseUrl ?? '',
      GEMINI_API_KEY: 'k',
      GOOGLE_GEMINI_BASE_URL: all[1]?.fake.baseUrl ?? '',
      OPENAI_API_KEY: 'k',
      OPENAI_BASE_URL: `${all[2]?.fake.baseUrl}/v1`,
    };
    const provider = createProvider(subject.name, undefined, env);
    const res = await provider.generate(
      request(subject, { messages: [{ role: 'user', content: 'ping' }] }),
      AbortSignal.timeout(5000),
    );
    expect(res.text).toBe('echo: ping');
    expect(subject.fake.requests).toHaveLength(1);
  });
});
