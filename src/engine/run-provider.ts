// The provider a run calls by `name`: built once per run (a run's mock keeps its own `fail_first`
// counters), the mock for every name when the run is mocked, a stand-in when it is replayed.
// Shared by the engine and the cluster workers that run a batch's items.
import { MockProvider } from '../providers/mock.js';
import type { Provider } from '../providers/provider.js';
import { createProvider, type ProviderFactories } from '../providers/registry.js';
import { replayStandIn } from '../providers/replay-stand-in.js';
import type { Env } from '../providers/settings.js';
import type { RunContext } from './run-context.js';

export function runProvider(run: RunContext, name: string, env: Env, factories: ProviderFactories = {}): Provider {
  const key = run.options.mock ? 'mock' : name;
  let provider = run.providers.get(key);
  if (!provider) {
    const config = run.pipeline.providers?.[key];
    if (key === 'mock' && !factories.mock) provider = new MockProvider();
    // Replayed: nothing is called, so no key is needed — only who would answer (the call keys).
    else if (run.options.replay) provider = replayStandIn(key, config, env);
    else provider = createProvider(key, config, env, factories);
    run.providers.set(key, provider);
  }
  return provider;
}
