// Builds a Provider from a name: built-ins (anthropic, gemini, openai) and names declared under
// `providers:` with a `type`. `mock` (and anything else the engine wants to plug in) comes through
// the `factories` map, so that this file does not depend on the mock provider.
import type { ProviderConfig } from '../config/schema.js';
import { ElexirionError, ExitCode } from '../errors.js';
import { pooledFetch } from '../resilience/connection-pool.js';
import { gateIdentity } from '../resilience/gate-key.js';
import { resolveGateOptions } from '../resilience/gate-options.js';
import { LazyProvider } from './lazy-provider.js';
import { type Provider, VENDOR_CAPABILITIES } from './provider.js';
import {
  type Env,
  endpointOf,
  missingKeyError,
  type ProviderSettings,
  type ProviderType,
  resolveProviderSettings,
} from './settings.js';

export type ProviderFactory = (settings: ProviderSettings, config: ProviderConfig | undefined) => Provider;

/** Overrides or additions by type, e.g. `{ mock: (s) => new MockProvider(…) }`. */
export type ProviderFactories = Partial<Record<ProviderType, ProviderFactory>>;

// Keys are checked when the provider is created (a missing key fails before the run starts); the
// SDK itself is imported on the first call (LazyProvider).
const BUILTIN_FACTORIES: Record<Exclude<ProviderType, 'mock'>, ProviderFactory> = {
  anthropic: (s, config) => {
    const options = {
      name: s.name,
      apiKey: requireKey(s),
      ...baseUrl(s),
      ...(s.headers ? { headers: s.headers } : {}),
      fetch: fetchFor(s.name, config),
    };
    return lazy(s, async () => {
      const { AnthropicProvider } = await import('./anthropic.js');
      return new AnthropicProvider(options);
    });
  },
  gemini: (s, config) => {
    const options = { name: s.name, apiKey: requireKey(s), ...baseUrl(s), fetch: fetchFor(s.name, config) };
    return lazy(s, async () => {
      const { GeminiProvider } = await import('./gemini.js');
      return new GeminiProvider(options);
    });
  },
  openai: (s, config) => {
    const options = {
      name: s.name,
      ...(s.keyOptional && !s.apiKey ? {} : { apiKey: requireKey(s) }),
      ...baseUrl(s),
      ...(s.headers ? { headers: s.headers } : {}),
      ...(s.organization ? { organization: s.organization } : {}),
      ...(s.project ? { project: s.project } : {}),
      fetch: fetchFor(s.name, config),
    };
    return lazy(s, async () => {
      const { OpenAIProvider } = await import('./openai.js');
      return new OpenAIProvider(options);
    });
  },
};

/** A vendor provider whose SDK is imported on its first call; who answers is known at once. */
function lazy(s: ProviderSettings, load: () => Promise<Provider>): Provider {
  return new LazyProvider(s.name, VENDOR_CAPABILITIES, load, endpointOf(s));
}

/**
 * The provider called `name`. Throws an ElexirionError (with a hint naming the variable to set)
 * when its key is missing, or when the name is neither built in nor declared with a `type`.
 */
export function createProvider(
  name: string,
  config: ProviderConfig | undefined,
  env: Env = process.env,
  factories: ProviderFactories = {},
): Provider {
  const settings = resolveProviderSettings(name, config, env);
  const factory = factories[settings.type] ?? (settings.type === 'mock' ? undefined : BUILTIN_FACTORIES[settings.type]);
  if (!factory) {
    throw new ElexirionError(`no implementation registered for provider type "${settings.type}"`, {
      exitCode: ExitCode.internal,
      hint: 'pass it in the factories argument of createProvider',
    });
  }
  return factory(settings, config);
}

/**
 * A keep-alive pool per gate, as large as its bulkhead lets calls be in flight: keyed as the gate is
 * (gate-key.ts). Two declarations of one endpoint whose limits differ have gates of their own, whose
 * max_concurrency add up; one pool for both, sized for one, held the second's calls in undici's queue
 * with their attempt timers running.
 */
function fetchFor(name: string, config: ProviderConfig | undefined): typeof fetch {
  const options = resolveGateOptions(name, config);
  return pooledFetch(gateIdentity(name, config, options).key, options.maxConcurrency);
}

function requireKey(s: ProviderSettings): string {
  if (!s.apiKey) throw missingKeyError(s);
  return s.apiKey;
}

function baseUrl(s: ProviderSettings): { baseUrl?: string } {
  return s.baseUrl ? { baseUrl: s.baseUrl } : {};
}
