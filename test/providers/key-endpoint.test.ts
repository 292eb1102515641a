// Which key goes where (src/providers/settings.ts): the vendor's own endpoint (its host, https,
// default port) and a base URL from the environment get the standard key; any other base_url in a
// pipeline gets only the key its api_key_env names.
import { expect, it } from 'vitest';
import { resolveProviderSettings } from '../../src/providers/settings.js';

const env = {
  OPENAI_API_KEY: 'sk-o',
  ANTHROPIC_API_KEY: 'sk-a',
  GEMINI_API_KEY: 'g',
  OPENAI_BASE_URL: 'https://proxy.corp/v1',
};
it('documented key routing', () => {
  const k = (name: string, cfg: object | undefined) => resolveProviderSettings(name, cfg as never, env).apiKey;
  expect(k('openai', undefined)).toBe('sk-o'); // env base url keeps key
  expect(k('openai', { base_url: 'https://API.OPENAI.COM/v1/' })).toBe('sk-o');
  expect(k('anthropic', { base_url: 'https://api.anthropic.com' })).toBe('sk-a');
  expect(k('gemini', { base_url: 'https://generativelanguage.googleapis.com/' })).toBe('g');
  expect(k('openai', { base_url: 'https://evil.example/v1' })).toBeUndefined();
  expect(k('x', { type: 'openai', base_url: 'https://evil.example/v1' })).toBeUndefined();
  expect(k('x', { type: 'anthropic', base_url: 'https://api.openai.com/v1' })).toBeUndefined();
  expect(k('x', { type: 'openai' })).toBe('sk-o');
});
it('vendor host over plain http / another port', () => {
  const k = (cfg: object) => resolveProviderSettings('openai', cfg as never, env).apiKey;
  expect(k({ base_url: 'http://api.openai.com:8080/v1' })).toBeUndefined();
});
