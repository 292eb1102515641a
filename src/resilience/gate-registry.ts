// The provider gates of a process, shared by every run in it: the limits protect the account, not a
// run, so two runs calling Anthropic at once share its ten slots.
//
// Which calls share a gate. A gate is keyed by the provider name, the endpoint the name stands for
// in the pipeline (type, base_url, api_key_env) and the gate's effective settings (max_concurrency,
// max_queue, timeout, circuit_breaker, rate_limit, defaults filled in — but for timeout, where
// declared or not tells gates apart: a declared one caps a step's timeout, the default does not,
// gate-options.ts). So:
// - pipelines that declare a provider alike (most: not at all) share one gate, whatever their
//   number: a server's runs of `anthropic` share its ten slots, its breaker, its rate window;
// - a pipeline that declares other limits gets them, for its own calls, in a gate of its own.
//   Before, the first pipeline to call a provider configured its gate for the life of the process
//   and a later one with other limits was silently given the first one's: `max_concurrency: 2`
//   could run at 20, a `rate_limit` could be ignored, a `base_url` of another server could share
//   the first server's breaker — depending on which pipeline happened to run first;
// - the same name on another endpoint (another base_url or key variable) is another gate too.
// The price: two configurations of one endpoint have two gates whose limits add up against the
// account (20 and 2 in flight: up to 22). We chose that over the alternatives because it does what
// each pipeline says whatever ran before it: refusing the second configuration would make a
// server's pipelines fail or not by the order they ran in (and forever, as gates live as long as
// the process), and the strictest or the first configuration for everyone would throttle or
// unthrottle pipelines by what another one declares. Each further configuration of an endpoint is
// reported, once (a process warning naming the settings that differ), so that an operator who
// meant one limit for the account can align the pipelines. Two names for one endpoint are two
// gates, as before: events, errors and metrics name the provider a pipeline calls.
//
// How many gates. Every name a pipeline declares is a gate of its own, and a server's inline
// pipelines (request bodies) may declare a new name on every request — of type `mock`, or of a
// vendor's type at an allowed base_url (inline-providers.ts allows both, as documented) — so gates,
// and the series and /health lines that list them, would grow for the life of the process. So the
// gates of names pipelines declare for themselves are let go of when idle: past `maxPipelineGates`
// (default 32) of them, building one more first forgets idle ones, oldest first, until it fits.
// First those a gate built afresh would replace exactly: no call inside (in flight, queued, waiting
// for the rate limit or between retries), the breaker closed with no fault counted since its last
// success, no rate window of its own. Only if that is not enough, those whose breaker would lose its
// history (faults counted, or open past its recovery timeout: its next call would go through
// anyway). Never: a gate with a call inside, a breaker failing calls fast, or a local rate window
// (the calls of the last minute; inline pipelines cannot set a rate_limit, and a cluster's window
// lives in Redis anyway). A gate let go of is built again at the next call to its name, the same;
// meanwhile /health and the metrics do not list it. Kept for ever, whatever their number: the gates
// of the built-in names (anthropic, openai, gemini, mock: the server's accounts; an inline pipeline
// gives them only endpoints and keys the operator allowed) and of the names the registry was built
// with. Busy gates past the cap are kept too (a call needs its gate): the cap bounds idle ones.
//
// A run asks for its gates through `forPipeline(pipeline.providers)`, a view of the shared gates
// that knows that pipeline's declarations; a name the pipeline does not declare gets what the
// registry was built with (`new GateRegistry(bus, providers)`: the process's own limits, e.g. a
// test's or a benchmark's mock), else the defaults of its type. `gate(name)` on the registry itself
// uses what the constructor and `configure()` declared (the last declaration of a name before its
// gate is built), for a caller that handles one pipeline's providers; views never see `configure()`,
// or a pipeline could again inherit the limits of whichever pipeline was configured first.
import { BUILTIN_PROVIDERS, type ProviderConfig } from '../config/schema.js';
import type { EventBus } from '../telemetry/event-bus.js';
import { describeDifference, type GateIdentity, gateId, gateIdentity } from './gate-key.js';
import { type GateOptions, resolveGateOptions } from './gate-options.js';
import { ProviderGate, type SharedAdmission } from './provider-gate.js';
import type { RateGate } from './rate-limiter.js';

/**
 * Admission shared beyond the process for one gate (cluster mode), or none. `gateId` tells apart
 * the gates of one provider name with different settings (gate-key.ts): shared state meant for one
 * gate should be keyed by it.
 */
export type SharedAdmissionFactory = (
  provider: string,
  options: GateOptions,
  gateId?: string,
) => SharedAdmission | undefined;

/** A rate limit shared beyond the process for one gate (cluster mode), or none. */
export type SharedRateFactory = (provider: string, options: GateOptions, gateId?: string) => RateGate | undefined;

/** The gates of one provider name, summed over its configurations (metrics, health). */
export interface ProviderGateSummary {
  provider: string;
  /** How many configurations (gates) the name has. */
  gates: number;
  inFlight: number;
  queued: number;
  /** The worst state among its gates: open ▸ half_open ▸ closed. */
  circuit: ProviderGate['circuitState'];
}

/** A provider name's settings, resolved once per registry (a call then costs two map lookups). */
interface Resolved extends GateIdentity {
  options: GateOptions;
}

const NO_PROVIDERS: Readonly<Record<string, ProviderConfig>> = Object.freeze({});
/** Gates of names pipelines declare for themselves kept when idle (see "How many gates" above). */
export const DEFAULT_MAX_PIPELINE_GATES = 32;
const KEPT_NAMES: ReadonlySet<string> = new Set(BUILTIN_PROVIDERS);
const LOSSLESS = 0;
const LOSES_HISTORY = 1;

export interface GateRegistryLimits {
  /** Gates of names pipelines declare for themselves past which idle ones are let go of (default 32). */
  maxPipelineGates?: number;
}

const CIRCUIT_RANK = { closed: 0, half_open: 1, open: 2 } as const;

/** The gates themselves, shared by a registry and every view made from it. */
class GateTable {
  readonly gates = new Map<string, { gate: ProviderGate; identity: Resolved }>();
  readonly views = new WeakMap<object, GateRegistry>();

  /** Gates that may be let go of when idle, by key, oldest first. */
  private readonly evictable = new Set<string>();

  constructor(
    readonly bus: EventBus | undefined,
    /** The registry's own declarations: the fallback of a pipeline that does not declare a name. */
    readonly declared: ReadonlyMap<string, ProviderConfig>,
    private readonly shared: SharedAdmissionFactory | undefined,
    private readonly sharedRate: SharedRateFactory | undefined,
    private readonly maxPipelineGates: number,
  ) {}

  gate(provider: string, resolved: Resolved): ProviderGate {
    return this.gates.get(resolved.key)?.gate ?? this.create(provider, resolved);
  }

  clear(): void {
    this.gates.clear();
    this.evictable.clear();
  }

  /**
   * Forgets idle gates of pipelines' own names until one more fits under the cap: first those a new
   * gate would replace exactly, oldest first; then, if need be, those whose breaker would lose some
   * history (faults counted, or open past its recovery timeout: the next call would go through).
   */
  private makeRoom(): void {
    for (const pass of [LOSSLESS, LOSES_HISTORY]) {
      for (const key of this.evictable) {
        if (this.evictable.size < this.maxPipelineGates) return;
        const entry = this.gates.get(key);
        if (entry && forgetCost(entry.gate) !== pass) continue;
        this.gates.delete(key);
        this.evictable.delete(key);
      }
    }
  }

  private create(provider: string, resolved: Resolved): ProviderGate {
    const keep = KEPT_NAMES.has(provider) || this.declared.has(provider);
    if (!keep && this.evictable.size >= this.maxPipelineGates) this.makeRoom();
    const { options } = resolved;
    const id = gateId(resolved.key);
    for (const { gate, identity } of this.gates.values()) {
      if (gate.provider !== provider || identity.endpoint !== resolved.endpoint) continue;
      process.emitWarning(
        `provider "${provider}" is declared with other gate settings here than elsewhere in this process ` +
          `(${describeDifference(identity.options, options)}): each configuration has a gate of its own, so ` +
          'their limits add up against the same endpoint; declare the same settings in every pipeline to share one gate',
        { code: 'ELEXIRION_GATE_CONFIGURATIONS' },
      );
      break;
    }
    const gate = new ProviderGate(
      provider,
      options,
      this.bus,
      this.shared?.(provider, options, id),
      this.sharedRate?.(provider, options, id),
    );
    this.gates.set(resolved.key, { gate, identity: resolved });
    if (!keep) this.evictable.add(resolved.key);
    return gate;
  }
}

export class GateRegistry {
  /** Replaced in a view by the table of the registry it was made from. */
  private table: GateTable;
  private readonly configs = new Map<string, ProviderConfig>();
  private readonly resolved = new Map<string, Resolved>();

  constructor(
    bus?: EventBus,
    providers: Record<string, ProviderConfig> = {},
    shared?: SharedAdmissionFactory,
    sharedRate?: SharedRateFactory,
    limits: GateRegistryLimits = {},
  ) {
    this.table = new GateTable(
      bus,
      new Map(Object.entries(providers)),
      shared,
      sharedRate,
      limits.maxPipelineGates ?? DEFAULT_MAX_PIPELINE_GATES,
    );
    this.configure(providers);
  }

  /**
   * The gates as one pipeline sees them: `gate(name)` is the gate of that pipeline's declaration
   * of `name` (else the registry's own, else the defaults of its type), shared with every pipeline
   * that declares it alike. One view per `providers` object, made once.
   */
  forPipeline(providers: Record<string, ProviderConfig> | undefined): GateRegistry {
    const declared = providers ?? NO_PROVIDERS;
    let view = this.table.views.get(declared);
    if (!view) {
      view = new GateRegistry(undefined, declared);
      view.table = this.table;
      this.table.views.set(declared, view);
    }
    return view;
  }

  /** Declares providers for `gate(name)` of this registry, not of its views; a name whose gate was asked for keeps its settings. */
  configure(providers: Record<string, ProviderConfig> = {}): void {
    for (const [name, config] of Object.entries(providers)) {
      if (!this.resolved.has(name)) this.configs.set(name, config);
    }
  }

  /**
   * The gate of `provider` as `config` declares it (resolved on every call: hot paths use a view);
   * else as this view's pipeline (or this registry) declares it; else as the registry was built
   * with; else with the defaults of its type.
   */
  gate(provider: string, config?: ProviderConfig): ProviderGate {
    if (config !== undefined) return this.table.gate(provider, resolve(provider, config));
    let resolved = this.resolved.get(provider);
    if (!resolved) {
      resolved = resolve(provider, this.configs.get(provider) ?? this.table.declared.get(provider));
      this.resolved.set(provider, resolved);
    }
    return this.table.gate(provider, resolved);
  }

  /** Every gate built so far, several for a provider declared with different settings. */
  all(): ProviderGate[] {
    return [...this.table.gates.values()].map((entry) => entry.gate);
  }

  /** One line per provider name: its gates' counts summed, its worst circuit state. */
  summary(): ProviderGateSummary[] {
    const byName = new Map<string, ProviderGateSummary>();
    for (const gate of this.all()) {
      const seen = byName.get(gate.provider);
      const state = gate.breaker.reportedState;
      if (!seen) {
        byName.set(gate.provider, {
          provider: gate.provider,
          gates: 1,
          inFlight: gate.bulkhead.inFlight,
          queued: gate.bulkhead.queued,
          circuit: state,
        });
        continue;
      }
      seen.gates++;
      seen.inFlight += gate.bulkhead.inFlight;
      seen.queued += gate.bulkhead.queued;
      if (CIRCUIT_RANK[state] > CIRCUIT_RANK[seen.circuit]) seen.circuit = state;
    }
    return [...byName.values()];
  }

  /** Forgets every gate (of the registry and its views); the next call builds them afresh. */
  reset(): void {
    this.table.clear();
    this.resolved.clear();
  }
}

function resolve(provider: string, config: ProviderConfig | undefined): Resolved {
  const options = resolveGateOptions(provider, config);
  return { ...gateIdentity(provider, config, options), options };
}

/**
 * What letting go of a gate would lose: nothing (LOSSLESS: no call inside it, its breaker closed
 * with no fault counted since its last success, no rate window of its own), its breaker's history
 * (LOSES_HISTORY), or more (undefined: calls inside it, a breaker failing calls fast right now, the
 * calls of the last minute in a local rate window — a cluster's lives in Redis and is kept there).
 */
function forgetCost(gate: ProviderGate): typeof LOSSLESS | typeof LOSES_HISTORY | undefined {
  if (gate.pendingCalls > 0 || gate.bulkhead.inFlight > 0 || gate.bulkhead.queued > 0) return undefined;
  if (gate.rateLimiter !== undefined) return undefined;
  const { breaker } = gate;
  if (breaker.reportedState === 'open') return undefined;
  return breaker.state === 'closed' && breaker.consecutiveFailures === 0 ? LOSSLESS : LOSES_HISTORY;
}
