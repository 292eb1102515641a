// The provider a run calls by `name`: built once per run (a run's mock keeps its own `fail_first`
// counters), the mock for every name when the run is mocked. Shared by the engine and the cluster
// workers that run a batch's items.
import { MockProvider } from '../providers/mock.js';
import type { Provider } from '../providers/provider.js';
import { createProvider, type ProviderFactories } from '../providers/registry.js';
import type { Env } from '../providers/settings.js';
import type { RunContext } from './run-context.js';

export function runProvider(run: RunContext, name: string, env: Env, factories: ProviderFactories = {}): Provider {
  const key = run.options.mock ? 'mock' : name;
  let provider = run.providers.get(key);
  if (!provider) {
    provider =
      key === 'mock' && !factories.mock
        ? new MockProvider()
        : createProvider(key, run.pipeline.providers?.[key], env, factories);
    run.providers.set(key, provider);
  }
  return provider;
}
