// What a run replayed from a cassette (`--replay`) has for a provider: every answer comes from the
// cassette, so nothing is ever called and no API key is needed — but who would answer is still
// part of each call's cache key (Provider.endpoint), and must be the same as when it was recorded.

import type { ProviderConfig } from '../config/schema.js';
import { ElexirionError, ExitCode } from '../errors.js';
import { type Capabilities, capabilitySupports, type Provider, VENDOR_CAPABILITIES } from './provider.js';
import { type Env, endpointOf, resolveProviderSettings } from './settings.js';

export function replayStandIn(name: string, config: ProviderConfig | undefined, env: Env): Provider {
  const endpoint = endpointOf(resolveProviderSettings(name, config, env));
  const never = (): never => {
    throw new ElexirionError(`provider "${name}" was called during a replay`, {
      exitCode: ExitCode.internal,
      hint: 'a replayed run answers every call from its cassette; this is a bug in Elexirion',
    });
  };
  return {
    name,
    ...(endpoint === undefined ? {} : { endpoint }),
    capabilities: (): Capabilities => ({ ...VENDOR_CAPABILITIES }),
    supports: (feature) => capabilitySupports(VENDOR_CAPABILITIES, feature),
    generate: async () => never(),
    // biome-ignore lint/correctness/useYield: it never yields; it throws on the first pull
    stream: async function* () {
      never();
    },
  };
}
