// Where a provider's key and endpoint come from: the `providers:` section of the pipeline
// (`type`, `base_url`, `api_key_env`) over the vendors' standard environment variables.
// Keys are only ever read from the environment; the YAML names the variable, never the key.
//
// "The environment" is the Env the engine is given (its `env` option; the CLI passes process.env),
// never process.env behind its back: the vendor SDKs would read a few variables of their own from
// process.env (ANTHROPIC_CUSTOM_HEADERS, OPENAI_ORG_ID, GOOGLE_GENAI_USE_VERTEXAI …), and each
// provider's client is built so that they do not (see sdk-env.ts). The ones that carry the
// operator's settings are read here, from the Env, and follow the rule of the keys: they go to the
// operator's endpoint only.
import type { ProviderConfig } from '../config/schema.js';
import { ElexirionError, ExitCode } from '../errors.js';

export type ProviderType = 'anthropic' | 'gemini' | 'openai' | 'mock';
export type Env = Readonly<Record<string, string | undefined>>;

interface TypeDefaults {
  /** Variables holding the key, in order of preference. */
  keyVariables: readonly string[];
  baseUrlVariable: string;
  /** Extra headers for every request, one `Name: value` a line (the SDK's own variable). */
  headersVariable?: string;
  /** OpenAI's organization and project (the `OpenAI-Organization` / `OpenAI-Project` headers). */
  organizationVariable?: string;
  projectVariable?: string;
}

export const PROVIDER_ENV: Readonly<Record<Exclude<ProviderType, 'mock'>, TypeDefaults>> = {
  anthropic: {
    keyVariables: ['ANTHROPIC_API_KEY'],
    baseUrlVariable: 'ANTHROPIC_BASE_URL',
    headersVariable: 'ANTHROPIC_CUSTOM_HEADERS',
  },
  gemini: { keyVariables: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'], baseUrlVariable: 'GOOGLE_GEMINI_BASE_URL' },
  openai: {
    keyVariables: ['OPENAI_API_KEY'],
    baseUrlVariable: 'OPENAI_BASE_URL',
    headersVariable: 'OPENAI_CUSTOM_HEADERS',
    organizationVariable: 'OPENAI_ORG_ID',
    projectVariable: 'OPENAI_PROJECT_ID',
  },
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
  /**
   * Headers of the operator's (ANTHROPIC_CUSTOM_HEADERS, OPENAI_CUSTOM_HEADERS: a gateway's
   * credentials, often) for every request — set only for the operator's endpoint (see below).
   */
  headers?: Readonly<Record<string, string>>;
  /** OPENAI_ORG_ID and OPENAI_PROJECT_ID, for the operator's endpoint only. */
  organization?: string;
  project?: string;
}

const BUILTIN_TYPES: ReadonlySet<string> = new Set(['anthropic', 'gemini', 'openai', 'mock']);

/**
 * A base URL with credentials (`https://user:pass@gateway`): fetch refuses to send a request to one,
 * so every call would fail — and, as a connection failure, be retried and counted by the breaker.
 * Refused before the run, naming where it came from and where credentials go instead.
 */
function refuseCredentialsIn(name: string, baseUrl: string, variable: string | undefined): void {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return; // not a URL: the SDK's own error says so
  }
  if (url.username === '' && url.password === '') return;
  url.username = '';
  url.password = '';
  const from = variable === undefined ? `the base_url of provider "${name}"` : `${variable} (provider "${name}")`;
  throw new ElexirionError(
    `${from} carries credentials (user:password@ in ${url.href.replace(/\/$/, '')}): requests cannot be sent to such a URL`,
    {
      exitCode: ExitCode.invalidInput,
      hint: 'remove them from the URL; send a gateway credential as a header (ANTHROPIC_CUSTOM_HEADERS, OPENAI_CUSTOM_HEADERS) or as the key (api_key_env)',
    },
  );
}

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
  if (baseUrl !== undefined)
    refuseCredentialsIn(name, baseUrl, config?.base_url === undefined ? defaults.baseUrlVariable : undefined);
  const keyOptional = type === 'openai' && baseUrl !== undefined && !isOfficialOpenAI(baseUrl) && !config?.api_key_env;
  // The operator's other settings (custom headers, OpenAI's organization and project) go where the
  // operator's key would: the endpoint the environment names (or the vendor's own), never a
  // base_url a pipeline chose — even with an api_key_env, which names a key and nothing else.
  const operatorEndpoint = config?.base_url === undefined || isVendorEndpoint(type, config.base_url);
  const operator = (variable: string | undefined) =>
    operatorEndpoint && variable !== undefined ? nonEmpty(env[variable])?.trim() : undefined;
  const headers = parseHeaders(operator(defaults.headersVariable));
  const organization = operator(defaults.organizationVariable);
  const project = operator(defaults.projectVariable);
  return {
    name,
    type,
    keyVariables,
    keyOptional,
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(baseUrl === undefined ? {} : { baseUrl }),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(organization === undefined ? {} : { organization }),
    ...(project === undefined ? {} : { project }),
  };
}

/**
 * A `*_CUSTOM_HEADERS` value as the SDKs read it: one `Name: value` a line, split at the first
 * colon, both sides trimmed; a line without a colon is ignored.
 */
export function parseHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text?.trim().split('\n') ?? []) {
    const colon = line.indexOf(':');
    const name = colon >= 0 ? line.substring(0, colon).trim() : '';
    if (name) headers[name] = line.substring(colon + 1).trim();
  }
  return headers;
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
  return new MissingKeyError(`provider "${settings.name}" has no API key: ${first} is not set`, [[first, ...others]]);
}

/** Who reads a missing key's hint: someone at the shell that runs the engine, or an HTTP caller of `serve`. */
export type KeyHintAudience = 'shell' | 'http';

/**
 * What to do about keys that are not set, given, per provider lacking one, the variables that would
 * hold it (the first is the usual one). At the shell: export them, or run with --mock. An HTTP
 * caller can neither export into the server's environment nor pass a flag: it is told to ask the
 * operator, or to send `"mock": true`.
 */
export function missingKeyHint(keyVariables: readonly (readonly string[])[], audience: KeyHintAudience): string {
  // Two providers of one vendor may read one variable: named once.
  const settings = andList([
    ...new Set(
      keyVariables.map(([first, ...others]) => `${first}=…${others.length ? ` (or ${others.join(', ')})` : ''}`),
    ),
  ]);
  return audience === 'shell'
    ? `export ${settings} before running, or run with --mock to use no provider at all`
    : `the server's environment lacks it: ask its operator to set ${settings}, or send \`"mock": true\` to use no provider at all`;
}

/**
 * Keys not set, its hint worded for the shell. It keeps the variables themselves, so that `hintFor`
 * words it for another audience without anyone parsing the text of the hint.
 */
export class MissingKeyError extends ElexirionError {
  /** Per provider lacking its key, the variables that would hold it (the first is the usual one). */
  readonly keyVariables: readonly (readonly string[])[];
  /** The hints of other problems reported with the missing keys: the same words for every audience. */
  readonly otherHints: readonly string[];
  constructor(message: string, keyVariables: readonly (readonly string[])[], otherHints: readonly string[] = []) {
    super(message, { exitCode: ExitCode.invalidInput, hint: hintOf(keyVariables, otherHints, 'shell') });
    this.keyVariables = keyVariables;
    this.otherHints = otherHints;
  }

  hintFor(audience: KeyHintAudience): string {
    return hintOf(this.keyVariables, this.otherHints, audience);
  }
}

function hintOf(
  keyVariables: readonly (readonly string[])[],
  otherHints: readonly string[],
  audience: KeyHintAudience,
): string {
  return [missingKeyHint(keyVariables, audience), ...otherHints].join('; ');
}

/** `a`, `a and b`, `a, b and c`. */
export function andList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
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
