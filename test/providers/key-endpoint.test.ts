// Which key goes where (src/providers/settings.ts): the vendor's own endpoint (its host, https,
// default port) and a base URL from the environment get the standard key; any other base_url in a
// pipeline gets only the key its api_key_env names.
import { expect, it } from 'vitest';
import { type ElexirionError, ExitCode } from '../../src/errors.js';
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
it('the operator’s custom headers, organization and project follow the same rule as the key, from the Env', () => {
  const operator = {
    ...env,
    ANTHROPIC_CUSTOM_HEADERS: 'X-Gateway-Auth: gw\nX-Team : core \nnot a header',
    OPENAI_CUSTOM_HEADERS: 'X-Gateway-Auth: gw-o',
    OPENAI_ORG_ID: ' org-1 ',
    OPENAI_PROJECT_ID: 'proj-1',
  };
  const s = (name: string, cfg: object | undefined) => resolveProviderSettings(name, cfg as never, operator);
  // The operator's endpoint: the vendor's own, or the base URL the environment names.
  expect(s('anthropic', undefined).headers).toEqual({ 'X-Gateway-Auth': 'gw', 'X-Team': 'core' });
  expect(s('openai', undefined)).toMatchObject({
    headers: { 'X-Gateway-Auth': 'gw-o' },
    organization: 'org-1',
    project: 'proj-1',
  });
  expect(s('openai', { base_url: 'https://api.openai.com/v1' }).organization).toBe('org-1');
  expect(s('x', { type: 'anthropic', api_key_env: 'MY_KEY' }).headers).toEqual({
    'X-Gateway-Auth': 'gw',
    'X-Team': 'core',
  });
  // A base_url of the pipeline's: none of it, api_key_env or not.
  for (const cfg of [
    { base_url: 'https://evil.example/v1' },
    { base_url: 'https://evil.example/v1', api_key_env: 'OPENAI_API_KEY' },
    { base_url: 'http://localhost:11434/v1' },
  ]) {
    const o = s('openai', cfg);
    expect([o.headers, o.organization, o.project]).toEqual([undefined, undefined, undefined]);
  }
  expect(s('x', { type: 'anthropic', base_url: 'https://gw.example', api_key_env: 'K' }).headers).toBeUndefined();
  // Gemini's SDK reads no such variable.
  expect(s('gemini', undefined).headers).toBeUndefined();
});
it('refuses a base URL carrying credentials (fetch cannot send to one), from a pipeline or the environment, without them', () => {
  const refusal = (name: string, cfg: object | undefined, e: Record<string, string>) => {
    try {
      resolveProviderSettings(name, cfg as never, e);
    } catch (error) {
      return error as ElexirionError;
    }
    throw new Error('accepted');
  };
  const fromPipeline = refusal('gw', { type: 'openai', base_url: 'https://bob:s3cret-pw@gw.corp/v1' }, env);
  expect(fromPipeline.message).toBe(
    'the base_url of provider "gw" carries credentials (user:password@ in https://gw.corp/v1): requests cannot be sent to such a URL',
  );
  expect(fromPipeline.exitCode).toBe(ExitCode.invalidInput);
  expect(fromPipeline.hint).toContain('CUSTOM_HEADERS');
  const fromEnv = refusal('anthropic', undefined, { ...env, ANTHROPIC_BASE_URL: 'http://u:s3cret-pw@127.0.0.1:9/' });
  expect(fromEnv.message).toMatch(/^ANTHROPIC_BASE_URL \(provider "anthropic"\) carries credentials/);
  expect(`${fromPipeline.message} ${fromEnv.message}`).not.toContain('s3cret-pw');
});
