// The provider a run calls by `name`: built once per run (a run's mock keeps its own `fail_first`
// counters), the mock for every name when the run is mocked, a stand-in when it is replayed.
// Shared by the engine and the cluster workers that run a batch's items.
import type { ProviderConfig } from '../config/schema.js';
import { MockProvider } from '../providers/mock.js';
import type { Provider } from '../providers/provider.js';
import { createProvider, type ProviderFactories } from '../providers/registry.js';
import { replayStandIn } from '../providers/replay-stand-in.js';
import type { Env } from '../providers/settings.js';
import { declaredEndpoint } from '../resilience/gate-key.js';
import type { RunContext } from './run-context.js';

export function runProvider(run: RunContext, name: string, env: Env, factories: ProviderFactories = {}): Provider {
  const key = run.options.mock ? 'mock' : name;
  const config = run.pipeline.providers?.[key];
  // A nested pipeline may declare a name its parent declares otherwise (another base_url): each
  // declaration is a provider of its own, as it is a gate of its own (model-caller-for.ts).
  const cacheKey = config === undefined || key === 'mock' ? key : endpointOf(key, config);
  let provider = run.providers.get(cacheKey);
  if (!provider) {
    // The built-in `mock`, or a name the pipeline declares `type: mock` (an offline stand-in of its
    // own, with its own gate): the mock, unless the caller plugged another implementation in.
    if ((key === 'mock' || config?.type === 'mock') && !factories.mock) provider = new MockProvider(key);
    // Replayed: nothing is called, so no key is needed — only who would answer (the call keys).
    else if (run.options.replay) provider = replayStandIn(key, config, env);
    else provider = createProvider(key, config, env, factories);
    run.providers.set(cacheKey, provider);
  }
  return provider;
}

// A pipeline's declarations are the same objects for each of its runs and steps: each endpoint is
// worked out once (a URL parsed, a JSON string built), not on every call. By name too: a YAML
// anchor may give one declaration to two names.
const endpoints = new WeakMap<ProviderConfig, Map<string, string>>();

function endpointOf(name: string, config: ProviderConfig): string {
  let byName = endpoints.get(config);
  if (!byName) {
    byName = new Map();
    endpoints.set(config, byName);
  }
  let endpoint = byName.get(name);
  if (endpoint === undefined) {
    endpoint = declaredEndpoint(name, config);
    byName.set(name, endpoint);
  }
  return endpoint;
}
