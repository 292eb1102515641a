// The provider a run calls by `name`: built once per run (a run's mock keeps its own `fail_first`
// counters), the mock for every name when the run is mocked, a stand-in when it is replayed.
// Shared by the engine and the cluster workers that run a batch's items.
import type { ProviderConfig } from '../config/schema.js';
import { MockProvider } from '../providers/mock.js';
import type { Provider } from '../providers/provider.js';
import { createProvider, type ProviderFactories } from '../providers/registry.js';
import { replayStandIn } from '../providers/replay-stand-in.js';
import type { Env } from '../providers/settings.js';
import type { RunContext } from './run-context.js';

/** What a declaration says about where calls go and with which key. */
function endpointOf(config: ProviderConfig): string {
  return JSON.stringify([config.type ?? null, config.base_url ?? null, config.api_key_env ?? null]);
}

export function runProvider(run: RunContext, name: string, env: Env, factories: ProviderFactories = {}): Provider {
  const key = run.options.mock ? 'mock' : name;
  const config = run.pipeline.providers?.[key];
  // A nested pipeline may declare a name its parent declares otherwise (another base_url): each
  // declaration is a provider of its own, as it is a gate of its own (model-caller-for.ts).
  const cacheKey = config === undefined || key === 'mock' ? key : `${key} ${endpointOf(config)}`;
  let provider = run.providers.get(cacheKey);
  if (!provider) {
    if (key === 'mock' && !factories.mock) provider = new MockProvider();
    // Replayed: nothing is called, so no key is needed — only who would answer (the call keys).
    else if (run.options.replay) provider = replayStandIn(key, config, env);
    else provider = createProvider(key, config, env, factories);
    run.providers.set(cacheKey, provider);
  }
  return provider;
}
