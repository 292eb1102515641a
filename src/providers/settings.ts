// Where a provider's key and endpoint come from: the `providers:` section of the pipeline
// (`type`, `base_url`, `api_key_env`) over the vendors' standard environment variables.
// Keys are only ever read from the environment; the YAML names the variable, never the key.
import type { ProviderConfig } from '../config/schema.js';
import { ElexirionError, ExitCode } from '../errors.js';

export type ProviderType = 'anthropic' | 'gemini' | 'openai' | 'mock';
export type Env = Readonly<Record<string, string | undefined>>;

interface TypeDefaults {
  /** Variables holding the key, in order of preference. */
  keyVariables: readonly string[];
  baseUrlVariable: string;
}

export const PROVIDER_ENV: Readonly<Record<Exclude<ProviderType, 'mock'>, TypeDefaults>> = {
  anthropic: { keyVariables: ['ANTHROPIC_API_KEY'], baseUrlVariable: 'ANTHROPIC_BASE_URL' },
  gemini: { keyVariables: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'], baseUrlVariable: 'GOOGLE_GEMINI_BASE_URL' },
  openai: { keyVariables: ['OPENAI_API_KEY'], baseUrlVariable: 'OPENAI_BASE_URL' },
};

export interface ProviderSettings {
  name: string;
  type: ProviderType;
  apiKey?: string;
  baseUrl?: string;
  /** The variables that were (or would be) read for the key. */
  keyVariables: readonly string[];
  /** An OpenAI-compatible server on its own URL (Ollama, vLLM) may need no key. */
  keyOptional: boolean;
}

const BUILTIN_TYPES: ReadonlySet<string> = new Set(['anthropic', 'gemini', 'openai', 'mock']);

/** The type of a provider name: its `type:` when declared, else the built-in of that name. */
export function providerType(name: string, config: ProviderConfig | undefined): ProviderType {
  if (config?.type) return config.type;
  if (BUILTIN_TYPES.has(name)) return name as ProviderType;
  throw new ElexirionError(`unknown provider "${name}"`, {
    exitCode: ExitCode.invalidInput,
    hint: `use one of anthropic, gemini, openai, mock, or declare it: providers: { ${name}: { type: openai, base_url: … } }`,
  });
}

export function resolveProviderSettings(name: string, config: ProviderConfig | undefined, env: Env): ProviderSettings {
  const type = providerType(name, config);
  if (type === 'mock') return { name, type, keyVariables: [], keyOptional: true };
  const defaults = PROVIDER_ENV[type];
  // A key goes only where the pipeline says it belongs: a `base_url:` in the pipeline gets the key
  // its `api_key_env:` names, never the vendor's standard one — else a pipeline pointing the
  // `openai` type at a third party (or a pipeline sent to `serve` pointing it anywhere) would hand
  // that server the OpenAI key. A base URL from the environment (OPENAI_BASE_URL) is the
  // operator's and keeps the standard key, as the vendors' SDKs do.
  const ownEndpoint = config?.base_url !== undefined && !config.api_key_env && !isVendorEndpoint(type, config.base_url);
  const keyVariables = config?.api_key_env ? [config.api_key_env] : ownEndpoint ? [] : defaults.keyVariables;
  const apiKey = keyVariables.map((v) => env[v]).find((v) => v !== undefined && v.trim() !== '');
  const baseUrl = config?.base_url ?? nonEmpty(env[defaults.baseUrlVariable]);
  const keyOptional = type === 'openai' && baseUrl !== undefined && !isOfficialOpenAI(baseUrl) && !config?.api_key_env;
  return {
    name,
    type,
    keyVariables,
    keyOptional,
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(baseUrl === undefined ? {} : { baseUrl }),
  };
}

/** The provider's `endpoint` (provider.ts): undefined for a built-in name at its standard service. */
export function endpointOf(settings: ProviderSettings): string | undefined {
  if (settings.type === settings.name && settings.baseUrl === undefined) return undefined;
  return `${settings.type} ${settings.baseUrl ?? 'standard'}`;
}

/** The error for a provider whose key is missing, naming the variable to set. */
export function missingKeyError(settings: ProviderSettings): ElexirionError {
  const [first, ...others] = settings.keyVariables;
  if (first === undefined) {
    const standard = settings.type === 'mock' ? 'KEY_VARIABLE' : PROVIDER_ENV[settings.type].keyVariables[0];
    return new ElexirionError(
      `provider "${settings.name}" has a base_url but no api_key_env: a key is sent to ${settings.baseUrl ?? 'its base_url'} only when the pipeline names it`,
      {
        exitCode: ExitCode.invalidInput,
        hint: `add api_key_env: ${standard} (or the variable holding that endpoint's own key) to providers.${settings.name}`,
      },
    );
  }
  const alternatives = others.length ? ` (or ${others.join(', ')})` : '';
  return new ElexirionError(`provider "${settings.name}" has no API key: ${first} is not set`, {
    exitCode: ExitCode.invalidInput,
    hint: `export ${first}=…${alternatives} before running, or run with --mock to use no provider at all`,
  });
}

/** The vendors' own API hosts: a `base_url` naming one of them is still the vendor's endpoint. */
const VENDOR_HOSTS: Readonly<Record<Exclude<ProviderType, 'mock'>, string>> = {
  anthropic: 'api.anthropic.com',
  gemini: 'generativelanguage.googleapis.com',
  openai: 'api.openai.com',
};

/** The vendor's own API: its host, over https, on the default port. */
function isVendorEndpoint(type: Exclude<ProviderType, 'mock'>, url: string): boolean {
  const u = parsed(url);
  return u?.protocol === 'https:' && u.port === '' && u.hostname === VENDOR_HOSTS[type];
}

/** OpenAI's own host, whatever the scheme or port: such a URL is never a keyless local server. */
function isOfficialOpenAI(url: string): boolean {
  return parsed(url)?.hostname === VENDOR_HOSTS.openai;
}

function parsed(url: string): URL | undefined {
  return URL.canParse(url) ? new URL(url) : undefined;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}
