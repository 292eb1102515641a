// One gate per provider, shared by every run in the process: the limits protect the account,
// not a run, so two runs calling Anthropic at once share its ten slots.
// Gates are keyed by provider name. The first configuration seen for a provider builds its gate;
// a later pipeline declaring other limits for the same provider does not resize a gate that
// calls are already queued on (call `reset()` between test cases or on reload).
import type { ProviderConfig } from '../config/schema.js';
import type { EventBus } from '../telemetry/event-bus.js';
import { type GateOptions, resolveGateOptions } from './gate-options.js';
import { ProviderGate, type SharedAdmission } from './provider-gate.js';
import type { RateGate } from './rate-limiter.js';

/** Admission shared beyond the process for one provider (cluster mode), or none. */
export type SharedAdmissionFactory = (provider: string, options: GateOptions) => SharedAdmission | undefined;

/** A rate limit shared beyond the process for one provider (cluster mode), or none. */
export type SharedRateFactory = (provider: string, options: GateOptions) => RateGate | undefined;

export class GateRegistry {
  private readonly gates = new Map<string, ProviderGate>();
  private readonly configs = new Map<string, ProviderConfig>();

  constructor(
    private readonly bus?: EventBus,
    providers: Record<string, ProviderConfig> = {},
    private readonly shared?: SharedAdmissionFactory,
    private readonly sharedRate?: SharedRateFactory,
  ) {
    this.configure(providers);
  }

  /** Adds the `providers:` section of a pipeline; providers whose gate exists keep their limits. */
  configure(providers: Record<string, ProviderConfig> = {}): void {
    for (const [name, config] of Object.entries(providers)) {
      if (!this.gates.has(name)) this.configs.set(name, config);
    }
  }

  gate(provider: string): ProviderGate {
    let gate = this.gates.get(provider);
    if (!gate) {
      const options = resolveGateOptions(provider, this.configs.get(provider));
      gate = new ProviderGate(
        provider,
        options,
        this.bus,
        this.shared?.(provider, options),
        this.sharedRate?.(provider, options),
      );
      this.gates.set(provider, gate);
    }
    return gate;
  }

  /** Every gate built so far (metrics: in-flight, queued, circuit state per provider). */
  all(): ProviderGate[] {
    return [...this.gates.values()];
  }

  reset(): void {
    this.gates.clear();
  }
}
