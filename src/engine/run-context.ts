// A run's private state — the "process state" of the OTP mapping. Nothing in here is shared with
// another run: its own AbortController, step results, variables, event sequence and budget. What
// is shared between runs (provider gates, the call cache, the store) comes in through `services`.

import type { PriceFn } from '../budget/budget-guard.js';
import type { RunBudget, SharedBudgetFactory } from '../budget/run-budget.js';
import type { LoadedPipeline } from '../config/loader.js';
import type { Defaults, Pipeline, SetVariableStep } from '../config/schema.js';
import type { CallCache } from '../journal/call-cache.js';
import type { CassettePlayer, CassetteRecorder } from '../journal/cassette.js';
import { type EventRecord, FORGOTTEN_STEPS, type StepRecord, type Store } from '../journal/store.js';
import type { Provider } from '../providers/provider.js';
import type { Env } from '../providers/settings.js';
import type { GateRegistry } from '../resilience/gate-registry.js';
import type { EventBus } from '../telemetry/event-bus.js';
import { JOURNALED_WITH_THEIR_STATE } from '../telemetry/events.js';
import type { Redaction } from '../telemetry/redaction.js';
import { buildScope, type StepView, type TemplateScope } from '../template/scope.js';
import { innerStop } from './errors.js';
import { groupLayout } from './group-variables.js';
import { newExecutionId } from './run-id.js';
import type { ItemPayers } from './steps/batch-payers.js';

/** What every run of an engine shares: the limits protect accounts, not runs. */
export interface EngineServices {
  store: Store;
  bus: EventBus;
  gates: GateRegistry;
  cache?: CallCache;
  price: PriceFn;
  /** The environment provider keys are read from (the engine's `env`; default process.env). */
  env: Env;
  /** The secrets of `env`, redacted from every model answer (built once, with `env`). */
  redaction: Redaction;
  /** Cluster mode: run budgets kept in Redis for every worker together (else each run's own BudgetGuard). */
  budgets?: SharedBudgetFactory;
  /** The provider called `name` for this run (the mock when the run is mocked). */
  providerFor(run: RunContext, name: string): Provider;
}

export interface RunOptions {
  /** Swap every provider for the mock. */
  mock?: boolean;
  maxCostUsd?: number;
  maxTokens?: number;
  /** Print tokens as they arrive (stream every LLM step). */
  stream?: boolean;
  record?: CassetteRecorder;
  replay?: CassettePlayer;
}

export class RunContext {
  readonly id: string;
  readonly loaded: LoadedPipeline;
  readonly inputs: Record<string, unknown>;
  readonly options: RunOptions;
  readonly services: EngineServices;
  readonly startedAt: number;
  readonly metadata: Record<string, unknown>;
  readonly controller = new AbortController();
  budget?: RunBudget;

  variables: Record<string, unknown> = {};
  /**
   * Names of `variables` that read null only because the `set_variable` meant to set them was
   * skipped (or failed and continued), and that are also inputs: at top level (`{{ NAME }}`) the
   * input shows through, as it did before that step. Valid for the `variables` object it was made
   * with only (`variables` is replaced, never changed in place).
   */
  private unsetInputs?: { of: Record<string, unknown>; names: readonly string[] };
  /** What templates see of finished steps, by name (own properties, `__proto__` too: see setOwn). */
  readonly stepViews: Record<string, StepView> = {};
  /** Journal records of finished steps, by key. */
  readonly records = new Map<string, StepRecord>();
  currentStep?: string;
  /** Providers built for this run, by name (a run's mock keeps its own `fail_first` counters). */
  readonly providers: Map<string, Provider>;
  /** Journal keys of this context's steps start with it: '' for a run, `parent/` for a nested pipeline. */
  readonly keyPrefix: string;
  /** 0 for a run; 1 for a pipeline it runs as a step, and so on. */
  readonly depth: number;
  /**
   * This execution of the run (a start, a resume, a restart after a crash), among the others: who
   * paid for a call answered now (CallRecord.paidBy). Its nested pipelines' contexts share it.
   */
  readonly execution: string;
  /**
   * Who pays for the calls of the batch items this context runs (batch-payers.ts): made by its first
   * batch, or by a cluster worker for the chunk it runs (each delivery an execution).
   */
  itemPayers?: ItemPayers;
  /** The run's own context: nested pipelines journal their events through it (one sequence per run). */
  private readonly root: RunContext;
  private detach?: () => void;

  /**
   * A run started from an empty journal, on its first attempt: every step record it has is one this
   * context committed, so the run's end can take them from `committedSteps` instead of reading them
   * back (see Engine.finish). False on a resume or a restart, which read the journal.
   */
  readonly fromScratch: boolean;
  /** Records this run committed, in commit order (the journal's order), by key; kept by the root. */
  private readonly committed = new Map<string, StepRecord>();
  private batchRan = false;
  /** See `forgotSteps`; asked once per execution, by the root. */
  private forgot?: Promise<boolean>;
  private seq: number;
  private pendingEvents: EventRecord[] = [];
  /**
   * The seq of each step.stop, by its data: a stop is journaled before its commit and emitted after
   * it, when a parallel step may have journaled more events (see seqOfEmitted).
   */
  private readonly stopSeqs = new WeakMap<object, number>();
  private readonly runView: { id: string; pipeline: string };
  private cachedScope?: TemplateScope;

  constructor(init: {
    id: string;
    loaded: LoadedPipeline;
    inputs: Record<string, unknown>;
    options: RunOptions;
    services: EngineServices;
    startedAt: number;
    metadata: Record<string, unknown>;
    lastEventSeq: number;
    /** Nothing of the run is journaled yet (see `fromScratch`). */
    fromScratch?: boolean;
    /** Set for a nested pipeline's context (see `child`). */
    parent?: RunContext;
    keyPrefix?: string;
  }) {
    this.id = init.id;
    this.loaded = init.loaded;
    this.inputs = init.inputs;
    this.options = init.options;
    this.services = init.services;
    this.startedAt = init.startedAt;
    this.metadata = init.metadata;
    this.seq = init.lastEventSeq;
    this.fromScratch = init.parent?.fromScratch ?? init.fromScratch ?? false;
    this.runView = { id: init.id, pipeline: init.loaded.pipeline.name };
    this.root = init.parent?.root ?? this;
    this.providers = init.parent?.providers ?? new Map();
    this.keyPrefix = init.keyPrefix ?? '';
    this.depth = init.parent ? init.parent.depth + 1 : 0;
    this.execution = init.parent?.execution ?? newExecutionId();
    if (init.parent?.budget) this.budget = init.parent.budget;
  }

  /**
   * The context of a pipeline run as a step of this one: its own scope (inputs, variables, steps),
   * but the same run — same id, journal, event sequence, providers and budget — with journal keys
   * `${keyPrefix}NAME`. It is cancelled when `signal` (the pipeline step's) fires.
   */
  child(init: { loaded: LoadedPipeline; inputs: Record<string, unknown>; keyPrefix: string; signal: AbortSignal }) {
    const child = new RunContext({
      id: this.id,
      loaded: init.loaded,
      inputs: init.inputs,
      options: this.options,
      services: this.services,
      startedAt: this.startedAt,
      metadata: this.metadata,
      lastEventSeq: 0,
      parent: this,
      keyPrefix: init.keyPrefix,
    });
    // A reason of its own (innerStop): the bills its stopped calls attach to it must not ride on the
    // pipeline step's own error into that step's row.
    const onAbort = () => child.controller.abort(innerStop(init.signal.reason));
    if (init.signal.aborted) onAbort();
    else init.signal.addEventListener('abort', onAbort, { once: true });
    child.detach = () => init.signal.removeEventListener('abort', onAbort);
    return child;
  }

  /** Releases a child context's hold on its parent's signal. */
  dispose(): void {
    this.detach?.();
  }

  /** The journal key of this context's step `name`. */
  keyFor(name: string): string {
    return this.keyPrefix + name;
  }

  get pipeline(): Pipeline {
    return this.loaded.pipeline;
  }

  get defaults(): Defaults {
    return this.loaded.pipeline.defaults ?? {};
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Calls `stop` with the reason when the run is stopped; the function returned cancels that. Each
   * step in flight registers here rather than on the run's AbortSignal: a listener added and removed
   * on an EventTarget per step costs microseconds, a Set entry nanoseconds.
   */
  onStop(stop: (reason: unknown) => void): () => void {
    const stoppers = this.stoppers ?? this.listenForStop();
    stoppers.add(stop);
    return () => stoppers.delete(stop);
  }

  private stoppers?: Set<(reason: unknown) => void>;

  // Its own method: a listener made inside onStop would share that call's scope, and keep the first
  // step's `stop` (and everything that step held) alive for as long as the run.
  private listenForStop(): Set<(reason: unknown) => void> {
    const stoppers = new Set<(reason: unknown) => void>();
    const signal = this.signal;
    signal.addEventListener(
      'abort',
      () => {
        for (const each of stoppers) each(signal.reason);
      },
      { once: true },
    );
    this.stoppers = stoppers;
    return stoppers;
  }

  scope(extra?: { item: unknown; index: number }): TemplateScope {
    // A step's scope is the run's as it is now: the same object until a set_variable step changes
    // the variables (step views are added to the same `steps` object). Templates never write to it.
    if (extra === undefined) {
      if (this.cachedScope?.variables !== this.variables) {
        this.cachedScope = buildScope({
          inputs: this.inputs,
          variables: this.variables,
          steps: this.stepViews,
          run: this.runView,
          ...this.inputsShown(),
        });
      }
      return this.cachedScope;
    }
    return buildScope({
      inputs: this.inputs,
      variables: this.variables,
      steps: this.stepViews,
      run: this.runView,
      ...this.inputsShown(),
      ...(extra ?? {}),
    });
  }

  /** The inputs whose top-level name a merely unset variable must not hide (see `unsetInputs`). */
  private inputsShown(): { inputsOverVariables?: readonly string[] } {
    const unset = this.unsetInputs;
    return unset !== undefined && unset.of === this.variables ? { inputsOverVariables: unset.names } : {};
  }

  /**
   * Keeps a journaled step that did not finish (a failure its `on_error` did not absorb) without
   * showing it to templates: the step runs again, unless a group that absorbed its failure is
   * taken from the journal — which then publishes it (see settleSubSteps).
   */
  remember(record: StepRecord): void {
    this.records.set(record.key, record);
  }

  /** Makes a finished step visible to later steps. Only after its record is durable. */
  publish(record: StepRecord): void {
    this.records.set(record.key, record);
    // Records of nested pipelines (`parent/child`) are kept, but their names are not this scope's.
    if (record.key !== this.keyPrefix + record.name) return;
    const view: StepView = {
      output: record.output ?? null,
      usage: { input_tokens: record.usage.inputTokens, output_tokens: record.usage.outputTokens },
      cost_usd: record.costUsd,
      status: record.status,
    };
    // A documented field of every step: null when the step has no error (not undefined, which a
    // strict template would refuse to read).
    view.error = record.error ?? null;
    setOwn(this.stepViews, record.name, view);
    if (record.type !== 'set_variable' && record.type !== 'parallel') return;
    // Inside a group, variables wait for the group's end (see group-variables.ts).
    const layout = groupLayout(this.pipeline);
    if (layout.nested.has(record.name)) return;
    if (record.type === 'set_variable') {
      const step = this.pipeline.steps.find((s) => s.name === record.name);
      if (step?.type === 'set_variable') this.setVariables(record, step);
      return;
    }
    for (const setter of layout.setters.get(record.name) ?? []) {
      const sub = this.records.get(this.keyFor(setter.name));
      if (sub !== undefined) this.setVariables(sub, setter);
    }
  }

  private setVariables(record: StepRecord, step: SetVariableStep): void {
    const before = this.unsetInputs?.of === this.variables ? this.unsetInputs.names : [];
    if (record.status === 'succeeded') {
      const values = record.output as Record<string, unknown>;
      this.variables = Object.assign({}, this.variables, values);
      // A variable set now hides its input at top level, as any variable does.
      this.keepUnsetInputs(before.filter((name) => !Object.hasOwn(values, name)));
      return;
    }
    // Skipped by its `when:` (or failed and continued): its variables read as null, as a skipped
    // step's output does, unless an earlier step set them — the validator lets later templates read
    // them, so they must not fail the run for being undefined. `{{ NAME }}` of a name that is also
    // an input stays the input: the step did not change it (`variables.NAME` reads null).
    const unset = Object.keys(step.variables).filter((name) => !Object.hasOwn(this.variables, name));
    if (unset.length === 0) return;
    this.variables = Object.assign({}, this.variables, Object.fromEntries(unset.map((name) => [name, null])));
    this.keepUnsetInputs([...before, ...unset.filter((name) => Object.hasOwn(this.inputs, name))]);
  }

  private keepUnsetInputs(names: readonly string[]): void {
    this.unsetInputs = names.length > 0 ? { of: this.variables, names } : undefined;
  }

  /** Whether the run has run a batch step (whose items have rows of their own); kept by the root. */
  get ranBatch(): boolean {
    return this.root.batchRan;
  }

  /**
   * Whether `resume --force` ever forgot steps of this run: what they paid is kept with the run as a
   * whole (Store.deleteSteps), so a step's answer paid before, found again in the cache, is in it
   * already (model-caller-for.ts). Read from the journal only when such a hit asks: rarely.
   */
  forgotSteps(): Promise<boolean> {
    if (this.root !== this) return this.root.forgotSteps();
    this.forgot ??= this.fromScratch
      ? Promise.resolve(false)
      : this.services.store.itemTotals(this.id).then((items) => items.some((i) => i.stepKey === FORGOTTEN_STEPS));
    return this.forgot;
  }

  /** Called by a batch step as it starts: the run's totals must then read its item rows. */
  noteBatch(): void {
    this.root.batchRan = true;
  }

  /** Notes a record the journal has just committed (step-runner's commit, after the write). */
  noteCommitted(record: StepRecord): void {
    if (this.root !== this) {
      this.root.noteCommitted(record);
      return;
    }
    // Written again under the same key (an upsert): it moves to the end, as its finished_at does.
    this.committed.delete(record.key);
    this.committed.set(record.key, record);
  }

  /** Every step record this run committed, in the journal's order (`Store.getSteps`). */
  committedSteps(): StepRecord[] {
    return [...this.root.committed.values()];
  }

  /** Buffers an event for the journal; it is written with the next step commit (one transaction). */
  journalEvent(type: string, at: number, data: Record<string, unknown>): void {
    if (this.root !== this) {
      this.root.journalEvent(type, at, data);
      return;
    }
    this.pendingEvents.push({ runId: this.id, seq: ++this.seq, type, at, data });
    if (JOURNALED_WITH_THEIR_STATE.has(type)) this.stopSeqs.set(data, this.seq);
  }

  /**
   * The seq of an event being emitted on the bus, read by a subscriber after the engine's journaling
   * one; undefined for an event that is not journaled (a step taken from the journal).
   */
  seqOfEmitted(type: string, data: object): number | undefined {
    if (this.root !== this) return this.root.seqOfEmitted(type, data);
    return JOURNALED_WITH_THEIR_STATE.has(type) ? this.stopSeqs.get(data) : this.seq;
  }

  takeEvents(): EventRecord[] {
    if (this.root !== this) return this.root.takeEvents();
    const events = this.pendingEvents;
    this.pendingEvents = [];
    return events;
  }

  get lastEventSeq(): number {
    if (this.root !== this) return this.root.lastEventSeq;
    return this.seq;
  }
}

/**
 * `target[key] = value` as an own property whatever the key: assigned, `__proto__` would replace
 * the object's prototype instead (and `steps.__proto__` be undefined to templates).
 */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}
