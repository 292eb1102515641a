// The engine: starts, supervises, resumes and cancels runs. One Engine per process is the norm;
// its provider gates and call cache are shared by every run it supervises.
import type { SharedBudgetFactory } from '../budget/run-budget.js';
import { canonicalJson } from '../config/canonical.js';
import { resolveInputs } from '../config/inputs.js';
import { type LoadedPipeline, loadPipeline } from '../config/loader.js';
import { UsageError } from '../errors.js';
import { CallCache } from '../journal/call-cache.js';
import type { CassettePlayer, CassetteRecorder } from '../journal/cassette.js';
import { claimOf, fencedStore, RunTakenOverError, takenOver } from '../journal/run-fence.js';
import type { RunRecord, RunTotals, StepRecord, Store } from '../journal/store.js';
import { emptyTotals, FORGOTTEN_STEPS } from '../journal/store.js';
import { priceCall } from '../pricing/index.js';
import { assertClaudeCodeReady } from '../providers/claude-code/preflight.js';
import type { Provider } from '../providers/provider.js';
import type { ProviderFactories } from '../providers/registry.js';
import { type Env, providerType } from '../providers/settings.js';
import { assertProviderKeys } from '../providers/step-providers.js';
import { GateRegistry } from '../resilience/gate-registry.js';
import { EventBus } from '../telemetry/event-bus.js';
import { type ElexirionEvent, JOURNALED_WITH_THEIR_STATE } from '../telemetry/events.js';
import { createRedaction, type Redaction } from '../telemetry/redaction.js';
import { messageOf, RunInterruptedError, RunStillEndingError, RunStillRunningError } from './errors.js';
import { interruptOrphanedRuns } from './orphaned-runs.js';
import { persistedOptions, restoredOptions } from './persisted-options.js';
import { type EngineServices, RunContext, type RunOptions } from './run-context.js';
import { executeRun, type RunOutcome, totalsOf } from './run-executor.js';
import { newRunId } from './run-id.js';
import { ownerState, thisOwner } from './run-owner.js';
import { runProvider } from './run-provider.js';
import { buildRunResult, journalOf, type RunResult } from './run-result.js';
import { pipelineOfRun, storedPipeline } from './stored-pipeline.js';
import { type RestartIntensity, RunSupervisor } from './supervisor.js';

export interface EngineOptions {
  store: Store;
  bus?: EventBus;
  gates?: GateRegistry;
  /** The call cache in front of the journal; `false` turns caching off for every run. */
  cache?: CallCache | false;
  env?: Env;
  /** Provider implementations by type (tests plug fakes in here). */
  providerFactories?: ProviderFactories;
  restartIntensity?: Partial<RestartIntensity>;
  /** Cluster mode: every run's budget kept in Redis, shared with the workers running its batches. */
  budgets?: SharedBudgetFactory;
}

export interface StartOptions {
  /** Inputs as given (CLI strings or JSON values); checked and completed with defaults. */
  inputs?: Record<string, unknown>;
  mock?: boolean;
  maxCostUsd?: number;
  maxTokens?: number;
  stream?: boolean;
  record?: CassetteRecorder;
  replay?: CassettePlayer;
  /** Free-form metadata kept with the run. */
  metadata?: Record<string, unknown>;
}

export interface ResumeOptions {
  /** A new cost limit (e.g. a larger one for a run stopped by its budget). */
  maxCostUsd?: number;
  /** Re-run from the first step that changed when the pipeline file changed. */
  force?: boolean;
  stream?: boolean;
  record?: CassetteRecorder;
  replay?: CassettePlayer;
  /**
   * Run the pipeline document stored in the journal, never the file (a cluster worker: the file
   * lives on the submitter's machine, the document in the shared journal).
   */
  fromJournal?: boolean;
  /**
   * With `fromJournal`: the same document as the caller loaded it from its file (a chain's link),
   * run instead when its hash is the run's — its diagnostics then have the file's line and column,
   * which the stored document does not know.
   */
  pipeline?: LoadedPipeline;
  /**
   * Take the run over from an owner whose liveness this process cannot check (another pid
   * namespace on this host: another container sharing the journal). Only when that owner is known
   * to be gone: two processes running one run pay for its steps twice.
   */
  takeover?: boolean;
  /**
   * Take the run over from an owner that lives but is known to run it no more: a cluster worker
   * that gave the run up (its job lock lost) and whose heartbeat no longer lists it. The owner's pid
   * alone cannot say so on this host; an execution of the run in this process still refuses.
   */
  ownerReleased?: boolean;
}

export interface RunHandle {
  runId: string;
  /** Settles when the run ends, with its result as the journal has it. Never rejects for a run's failure. */
  result: Promise<RunResult>;
  /** Stops the run: `interrupted` is resumable, `cancelled` is final by intent (still resumable on demand). */
  stop(status?: 'interrupted' | 'cancelled'): void;
}

interface ActiveRun {
  /** Settles once the execution is over: its end journaled, and gone from the engine's active runs. */
  done?: Promise<unknown>;
  context?: RunContext;
  stopRequested?: 'interrupted' | 'cancelled';
  /** What the run's end knew: its handle's result needs no second read of the journal. */
  finished?: Finished;
  /**
   * Why this execution was given up (`abandon`, or a fenced write refused): another process owns
   * the run now. It stops and journals nothing more — no final status, no execution.stop.
   */
  abandoned?: string;
}

/** A start or resume under way, and the stop `stopAll` asked of it meanwhile. */
interface PendingStart {
  stop?: 'interrupted' | 'cancelled';
}

/** A run's end: its steps as totalled, and — for a run that began on an empty journal — its final record. */
interface Finished {
  steps: StepRecord[];
  run?: RunRecord;
}

export class Engine {
  readonly store: Store;
  readonly bus: EventBus;
  readonly gates: GateRegistry;
  readonly supervisor: RunSupervisor;
  private readonly cache?: CallCache;
  /** The environment provider keys are read from. */
  readonly env: Env;
  /** The secrets of `env`, redacted from every model answer of every run (run-context.ts). */
  readonly redaction: Redaction;
  private readonly factories: ProviderFactories;
  private readonly active = new Map<string, ActiveRun>();
  private readonly resuming = new Set<string>();
  /**
   * Starts and resumes under way (not yet active: their checks, the journal's createRun or claim
   * are still being awaited), each with the stop a `stopAll` asked of it meanwhile.
   */
  private readonly starting = new Set<PendingStart>();
  private readonly services: EngineServices;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.bus = options.bus ?? new EventBus();
    this.gates = options.gates ?? new GateRegistry(this.bus);
    this.supervisor = new RunSupervisor(options.restartIntensity);
    if (options.cache !== false) this.cache = options.cache ?? new CallCache(this.store);
    this.env = options.env ?? process.env;
    // Once per engine: finding an environment's secrets is not for each call (nor each run).
    this.redaction = createRedaction(this.env);
    this.factories = options.providerFactories ?? {};
    this.services = {
      store: this.store,
      bus: this.bus,
      gates: this.gates,
      ...(this.cache ? { cache: this.cache } : {}),
      price: (provider, model, usage) => priceCall(provider, model, usage),
      env: this.env,
      redaction: this.redaction,
      providerFor: (run, name) => this.providerFor(run, name),
      ...(options.budgets ? { budgets: options.budgets } : {}),
    };
    // Every event of a run goes to its journal, buffered and written with the next step commit.
    // The stops are the exception: step.stop is written in the same transaction as the step's
    // result (the step runner), execution.stop with the run's final state (finish).
    this.bus.onAny((event) => {
      if (JOURNALED_WITH_THEIR_STATE.has(event.type)) return;
      const runId = (event.data as { runId?: string }).runId;
      const context = runId === undefined ? undefined : this.active.get(runId)?.context;
      context?.journalEvent(event.type, event.at, event.data as unknown as Record<string, unknown>);
    });
  }

  get activeRuns(): number {
    return this.active.size;
  }

  /** Whether `runId` is running under this engine (not merely marked running in the journal). */
  isActive(runId: string): boolean {
    return this.active.has(runId);
  }

  /**
   * The seq of the last event journaled (or buffered for the journal) by an active run. Read by a bus
   * subscriber right after an event, it is that event's seq: the live stream's `id:` (Last-Event-ID).
   */
  lastEventSeq(runId: string): number | undefined {
    return this.active.get(runId)?.context?.lastEventSeq;
  }

  /**
   * The seq an event just emitted has in its run's journal, for a bus subscriber registered after
   * the engine — exact for a step.stop too, which is emitted after its commit (a parallel step may
   * have journaled events since). Undefined: not journaled (a step taken from the journal).
   */
  eventSeq(event: ElexirionEvent): number | undefined {
    const runId = (event.data as { runId?: string }).runId;
    const context = runId === undefined ? undefined : this.active.get(runId)?.context;
    return context?.seqOfEmitted(event.type, event.data);
  }

  /**
   * Writes the events an active run has buffered for its next commit to the journal now, ahead of
   * that commit (as a batch's item commits do): a live stream whose hub no longer holds them reads
   * them from there. Every event emitted before the call is in the journal once it resolves, but for
   * those a commit already under way is writing.
   */
  async journalPendingEvents(runId: string): Promise<void> {
    const context = this.active.get(runId)?.context;
    const events = context?.takeEvents() ?? [];
    if (events.length > 0) await context?.services.store.appendEvents(events);
  }

  /** Starts a run of `loaded`. Throws ConfigError for bad inputs and a clear error for missing keys. */
  start(loaded: LoadedPipeline, options: StartOptions = {}): Promise<RunHandle> {
    return this.whileStarting(async (pending) => {
      const inputs = resolveInputs(loaded, options.inputs ?? {});
      if (!options.mock && !options.replay) assertProviderKeys(loaded.pipeline, this.env, loaded.dir);
      if (!options.mock) await assertClaudeCodeReady(loaded, this.env);
      const runOptions = pickRunOptions(options);
      const record = newRunRecord(
        loaded,
        inputs,
        { ...options.metadata, options: persistedOptions(runOptions), ...thisOwner() },
        options.inputs,
      );
      await this.store.createRun(record);
      return this.supervise(record, loaded, runOptions, {
        fresh: true,
        claim: claimOf(record.metadata),
        stopRequested: pending.stop,
      });
    });
  }

  /**
   * Runs a start or resume registered as under way from the call on: a stopAll (Ctrl-C) meanwhile
   * is kept in `pending` and stops the run it makes.
   */
  private async whileStarting<T>(begin: (pending: PendingStart) => Promise<T>): Promise<T> {
    const pending: PendingStart = {};
    this.starting.add(pending);
    try {
      return await begin(pending);
    } finally {
      this.starting.delete(pending);
    }
  }

  /**
   * Creates a run in the journal without running it: a cluster worker runs it later with
   * `resume(id, { fromJournal: true })`. Inputs are checked here; provider keys are the worker's.
   */
  async create(loaded: LoadedPipeline, options: Omit<StartOptions, 'record' | 'replay'> = {}): Promise<RunRecord> {
    const inputs = resolveInputs(loaded, options.inputs ?? {});
    const runOptions = pickRunOptions(options);
    // No owner (pid, host): the worker that takes the run becomes its owner.
    const record = newRunRecord(
      loaded,
      inputs,
      { ...options.metadata, options: persistedOptions(runOptions) },
      options.inputs,
    );
    await this.store.createRun(record);
    return record;
  }

  /** Continues a failed, interrupted or killed run from its journal. */
  resume(runId: string, options: ResumeOptions = {}): Promise<RunHandle> {
    return this.whileStarting((pending) => this.resumeRun(runId, options, pending));
  }

  private async resumeRun(runId: string, options: ResumeOptions, pending: PendingStart): Promise<RunHandle> {
    const record = await this.store.getRun(runId);
    if (!record) throw new UsageError(`no run with id ${runId}`, 'list runs with `elexirion runs`');
    if (record.status === 'succeeded') {
      throw new UsageError(
        `run ${runId} already succeeded; there is nothing to resume`,
        'start a new run with `elexirion run`',
      );
    }
    // Active here, whatever its status says: an execution that has journaled its final status is
    // still ending (its last events, its call records) until it leaves the active runs. A second
    // execution beside it would share its run id: the first one's cleanup would forget the second
    // (untracked: neither stoppable nor waited for, its events unjournaled).
    if (this.active.has(runId) && record.status !== 'running') {
      throw new RunStillEndingError(runId);
    }
    const owner = record.status === 'running' ? this.ownerState(record) : 'gone';
    if (owner === 'unknown' && !options.takeover) {
      throw new UsageError(
        `run ${runId} belongs to process ${String(record.metadata.pid)} in another pid namespace on ${String(record.metadata.host)} (another container): this process cannot tell whether it is still running`,
        `if that process is gone, take the run over: elexirion resume ${runId} --takeover`,
      );
    }
    // Released: alive, but it gave the run up (never an execution of this process).
    const released = owner === 'alive' && options.ownerReleased === true && !this.active.has(runId);
    if ((owner === 'alive' && !released) || this.resuming.has(runId)) {
      throw new RunStillRunningError(
        runId,
        `process ${String(record.metadata.pid)} on ${String(record.metadata.host)}`,
      );
    }
    // Claimed before the first await: two resumes of one run in this process must not both pass.
    this.resuming.add(runId);
    try {
      return await this.resumeClaimed(record, options, pending);
    } finally {
      this.resuming.delete(runId);
    }
  }

  private async resumeClaimed(record: RunRecord, options: ResumeOptions, pending: PendingStart): Promise<RunHandle> {
    const runId = record.id;
    // Its cassettes opened again (a replayed run stays offline) before anything is touched — the
    // journal by --force, the run by the claim — so that a resume refused for a missing cassette
    // leaves the run as it was.
    const given = pickRunOptions(options);
    const runOptions: RunOptions = { ...restoredOptions(runId, record.metadata.options, given), ...given };
    const { loaded, inputs, forget } = options.fromJournal
      ? { loaded: pipelineOfRun(record, options.pipeline), inputs: record.inputs, forget: undefined }
      : await this.pipelineForResume(record, options.force === true);
    const restarts = Number(record.metadata.resumes ?? 0) + 1;
    const claimed = await this.store.claimRun(
      runId,
      { status: record.status, metadata: record.metadata },
      {
        status: 'running',
        // The last attempt's ending is history now (present-but-undefined clears the column).
        error: undefined,
        failedStep: undefined,
        finishedAt: undefined,
        metadata: { ...record.metadata, options: persistedOptions(runOptions), ...thisOwner(), resumes: restarts },
      },
    );
    if (!claimed) {
      // Another process resumed it between our read and our write: two resumes would pay twice.
      throw new UsageError(`run ${runId} was just resumed by another process`, 'follow it with `elexirion runs show`');
    }
    // --force forgets the changed steps only now, the run ours: a resume that loses the claim to
    // another must not delete what the winner journals meanwhile.
    await forget?.();
    return this.supervise({ ...record, inputs, status: 'running' }, loaded, runOptions, {
      claim: restarts,
      stopRequested: pending.stop,
    });
  }

  /**
   * Stops every active run (Ctrl-C, SIGTERM): each ends `interrupted`, resumable. So do the runs
   * whose start or resume is under way: each is stopped as soon as it is supervised (a start that
   * fails its checks starts nothing). Later starts are not affected.
   */
  stopAll(status: 'interrupted' | 'cancelled' = 'interrupted'): void {
    for (const pending of this.starting) pending.stop = status;
    for (const runId of this.active.keys()) this.stop(runId, status);
  }

  /**
   * Gives a run's execution up without ending the run: another process owns it now (a cluster
   * worker whose job lock was lost — it was frozen, or cut off from Redis — while another worker
   * took the job). The execution stops as a stop does, but journals nothing more: no final status,
   * no execution.stop (the new owner's are the run's); a commit already under way is refused by the
   * journal's fence once the new owner has claimed the run. Its handle's result is read from the
   * journal. False when the run is not active here.
   */
  abandon(runId: string, why: string): boolean {
    const active = this.active.get(runId);
    if (!active) return false;
    active.abandoned ??= why;
    active.stopRequested ??= 'interrupted';
    active.context?.controller.abort(new RunInterruptedError('interrupted'));
    return true;
  }

  stop(runId: string, status: 'interrupted' | 'cancelled' = 'cancelled'): boolean {
    const active = this.active.get(runId);
    if (!active) return false;
    active.stopRequested = status;
    active.context?.controller.abort(new RunInterruptedError(status));
    return true;
  }

  async result(runId: string): Promise<RunResult> {
    return this.resultOf(runId);
  }

  /** The run's result; `finished` when the run's end has just read or committed what it needs. */
  private async resultOf(runId: string, finished?: Finished): Promise<RunResult> {
    const record = finished?.run ?? (await this.store.getRun(runId));
    if (!record) throw new UsageError(`no run with id ${runId}`, 'list runs with `elexirion runs`');
    if (finished) return buildRunResult(record, finished.steps);
    const { steps, items } = await journalOf(this.store, record);
    return buildRunResult(record, steps, items);
  }

  /**
   * Waits for every active run to end, those started meanwhile too: each one's end journaled (a
   * run its supervisor gave up on is journaled failed after that), and gone from the active runs.
   */
  async drain(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active.values()].map((run) => run.done));
  }

  /**
   * `claim`: the run's claim this execution holds (its `resumes` count): its writes of the run are
   * fenced with it. `fresh`: the run has never run (nothing to read back).
   */
  private supervise(
    record: RunRecord,
    loaded: LoadedPipeline,
    options: RunOptions,
    {
      fresh = false,
      claim,
      stopRequested,
    }: { fresh?: boolean; claim: number; stopRequested?: 'interrupted' | 'cancelled' },
  ): RunHandle {
    const runId = record.id;
    // Accepted: the run's recording is its own from now (empty if it makes no call); a run refused
    // before this point leaves a cassette recorded earlier untouched. close() below ends it.
    options.record?.start(runId);
    // Stopped while being started: its first attempt begins aborted, and ends as a stop says.
    const active: ActiveRun = stopRequested === undefined ? {} : { stopRequested };
    this.active.set(runId, active);
    // Every write of this execution to its run — steps, items, events, its end — is refused once
    // another process has claimed the run: a worker that lost the run never interleaves with its owner.
    // A store that checks no fence (SQLite) is used as it is: no wrapper on a run's every call.
    const store = fencedStore(this.store, { runId, claim });
    const services: EngineServices = { ...this.services, store };
    const giveUp = (error: unknown) => {
      if (!takenOver(error)) return false;
      this.abandon(runId, messageOf(error));
      return true;
    };
    const outcome = this.supervisor
      .supervise<RunOutcome>({
        id: runId,
        // Every (re)start rebuilds the run from the journal: recovery from durable state, not memory.
        start: async (attempt) => {
          if (active.abandoned !== undefined) throw new RunTakenOverError(runId);
          // A run that has never run has no steps nor events yet: skip reading them.
          const untouched = fresh && attempt === 0;
          const journaled = untouched ? [] : await this.store.getSteps(runId);
          const lastEventSeq = untouched ? 0 : await this.store.lastEventSeq(runId);
          const context = new RunContext({
            id: runId,
            loaded,
            inputs: record.inputs,
            options,
            services,
            startedAt: record.startedAt,
            metadata: record.metadata,
            lastEventSeq,
            fromScratch: untouched,
          });
          active.context = context;
          if (active.stopRequested) context.controller.abort(new RunInterruptedError(active.stopRequested));
          try {
            const result = await executeRun(context, journaled);
            // Given up: the run's end is its new owner's to journal.
            if (active.abandoned === undefined)
              active.finished = await this.finish(context, result, runId, record, store);
            return result;
          } catch (error) {
            giveUp(error);
            throw error;
          }
        },
        restartable: (error) => active.stopRequested === undefined && !takenOver(error),
        onRestart: (attempt, error) => {
          process.emitWarning(
            `run ${runId} crashed (${messageOf(error)}); restarting from the journal (restart ${attempt})`,
          );
        },
      })
      .catch(async (error: unknown) => {
        // Past the restart intensity (or a crash while stopping): the run fails with its reason —
        // unless another process owns it now, which journals its end.
        const failed: RunOutcome = { status: active.stopRequested ?? 'failed', error: messageOf(error) };
        if (giveUp(error) || active.abandoned !== undefined) return failed;
        active.finished = await this.finish(active.context, failed, runId, record, store).catch(() => undefined);
        return failed;
      })
      .finally(() => {
        // The run has ended: its recording becomes its cassette (renamed over the one it replaces).
        options.record?.close();
        // Only this execution's own entry: the run's id may name a later execution by now.
        if (this.active.get(runId) === active) this.active.delete(runId);
      });
    active.done = outcome;

    const result = outcome.then(() => this.resultOf(runId, active.finished));
    // Nobody may ask (the HTTP API answers 202 and moves on): a result that cannot be read — a
    // journal on a full disk — must not become an unhandled rejection, which ends the process and
    // every run in it. Whoever awaits `result` still gets the failure.
    result.catch(() => {});
    return {
      runId,
      result,
      stop: (status = 'cancelled') => {
        this.stop(runId, status);
      },
    };
  }

  private async finish(
    context: RunContext | undefined,
    outcome: RunOutcome,
    runId: string,
    record: RunRecord,
    store: Store,
  ): Promise<Finished> {
    // A run that began on an empty journal and never restarted journaled only what its context
    // committed: those records are the journal's steps (no 500 rows read back), and it has item
    // rows only if it ran a batch.
    const fromScratch = context?.fromScratch === true;
    const steps = fromScratch ? context.committedSteps() : await this.store.getSteps(runId);
    const items = fromScratch && !context.ranBatch ? [] : await this.store.itemTotals(runId);
    const totals = totalsOf(steps, items);
    const finishedAt = Date.now();
    const patch: Partial<RunRecord> = {
      status: outcome.status,
      finishedAt,
      totals,
      ...(outcome.outputs === undefined ? {} : { outputs: outcome.outputs }),
      // Present even when undefined: a resumed run that succeeds must not keep its old error.
      error: outcome.error,
      failedStep: outcome.failedStep,
    };
    const stop = {
      runId,
      pipeline: context?.pipeline.name ?? '',
      status: outcome.status,
      durationMs: finishedAt - (context?.startedAt ?? finishedAt),
      costUsd: totals.costUsd,
      inputTokens: totals.inputTokens,
      outputTokens: totals.outputTokens,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    };
    // Like a step's stop, the run's stop is journaled with the state it reports, in one transaction
    // with the run's last events and the call records still written behind; it is emitted once
    // committed.
    context?.journalEvent('pipeline.execution.stop', finishedAt, stop);
    await Promise.all([
      this.cache?.flush(),
      context ? store.appendEvents(context.takeEvents()) : undefined,
      store.updateRun(runId, patch),
    ]);
    this.bus.emit('pipeline.execution.stop', stop);
    // Object.assign: V8 builds `{ ...record, ...patch }` (a spread adding new keys) on a slow path.
    return fromScratch ? { steps, run: Object.assign({}, record, patch) } : { steps };
  }

  private providerFor(run: RunContext, name: string): Provider {
    return runProvider(run, name, this.env, this.factories);
  }

  /**
   * Ends `interrupted` the runs the journal has running whose owner was a process of this host that
   * is gone (killed before it could journal their end): orphaned-runs.ts. Their ids.
   */
  interruptOrphanedRuns(): Promise<string[]> {
    return interruptOrphanedRuns(this.store);
  }

  /** Whether the process that owns a running run is alive (run-owner.ts); this one's active runs are. */
  private ownerState(record: RunRecord): 'alive' | 'gone' | 'unknown' {
    return this.active.has(record.id) ? 'alive' : ownerState(record.metadata);
  }

  /** The pipeline a resume runs, and the run's inputs as that pipeline reads them. */
  private async pipelineForResume(
    record: RunRecord,
    force: boolean,
  ): Promise<{ loaded: LoadedPipeline; inputs: Record<string, unknown>; forget?: () => Promise<void> }> {
    const stored = { loaded: storedPipeline(record), inputs: record.inputs };
    if (!record.pipelineFile) return stored;
    let current: LoadedPipeline;
    try {
      current = await loadPipeline(record.pipelineFile);
    } catch (error) {
      if ((error as { diagnostics?: { message: string }[] }).diagnostics?.[0]?.message === 'no such file')
        return stored;
      throw error;
    }
    if (current.hash === record.pipelineHash) return { loaded: current, inputs: record.inputs };
    if (!force) {
      throw new UsageError(
        `the pipeline ${record.pipelineFile} changed since run ${record.id} started; resuming it would mix two pipelines`,
        'restore the file, or resume with --force to re-run from the first changed step',
      );
    }
    // Checked before the journal is touched: inputs the changed pipeline refuses leave the run as it was.
    const inputs = inputsForChanged(record, current);
    return { loaded: current, inputs, forget: () => this.forgetFromFirstChange(record, current, inputs) };
  }

  /**
   * --force: keeps the journaled steps before the first changed one and forgets the rest. The run
   * goes on with `inputs` (its inputs as the changed pipeline reads them, see `inputsForChanged`).
   */
  private async forgetFromFirstChange(
    record: RunRecord,
    current: LoadedPipeline,
    inputs: Record<string, unknown>,
  ): Promise<void> {
    const before = record.pipeline as LoadedPipeline['pipeline'];
    // What steps do not read cannot invalidate them: a new budget, other outputs, another description.
    const { steps: oldSteps, budget: _b1, outputs: _o1, description: _d1, ...oldRest } = before;
    const { steps: newSteps, budget: _b2, outputs: _o2, description: _d2, ...newRest } = current.pipeline;
    let firstChanged = 0;
    if (canonicalJson(oldRest) === canonicalJson(newRest)) {
      while (
        firstChanged < Math.min(oldSteps.length, newSteps.length) &&
        canonicalJson(oldSteps[firstChanged]) === canonicalJson(newSteps[firstChanged])
      ) {
        firstChanged++;
      }
    }
    const keep = new Set(newSteps.slice(0, firstChanged).flatMap(stepKeys));
    // Every key a changed, later or removed step may own, whether or not it has a step row: a batch
    // stopped half-way has journaled items and no row, and those items must not be reused.
    // (deleteSteps also forgets what is nested under a key: a child pipeline's `name/child…`.)
    const changed = [...oldSteps.slice(firstChanged), ...newSteps.slice(firstChanged)].flatMap(stepKeys);
    const journaled = await this.store.getSteps(record.id);
    const forget = [...new Set([...changed, ...journaled.map((s) => s.key)])].filter(
      // A kept `pipeline` step keeps its child steps too (journaled as `name/child…`).
      (k) => !keep.has(k) && !keep.has(k.split('/')[0] as string),
    );
    if (forget.length > 0) {
      await this.store.deleteSteps(record.id, forget, await forgottenSpend(this.store, record.id, journaled, forget));
    }
    await this.store.updateRun(record.id, { pipeline: current.pipeline, pipelineHash: current.hash, inputs });
  }
}

/** A run as the journal first sees it: running, nothing spent. */
function newRunRecord(
  loaded: LoadedPipeline,
  inputs: Record<string, unknown>,
  metadata: Record<string, unknown>,
  given: Record<string, unknown> = {},
): RunRecord {
  // Which inputs were given (not taken from a default): a resume --force of a changed pipeline
  // applies the changed defaults to the others (inputsForChanged).
  const givenInputs = Object.keys(given).filter((name) => given[name] !== undefined && given[name] !== null);
  return {
    id: newRunId(),
    pipelineName: loaded.pipeline.name,
    pipelineFile: loaded.file,
    pipelineHash: loaded.hash,
    pipeline: loaded.pipeline,
    inputs,
    status: 'running',
    startedAt: Date.now(),
    totals: emptyTotals(),
    metadata: { ...metadata, givenInputs },
  };
}

/**
 * A run's inputs as the changed pipeline `current` reads them, as a new run given the same values
 * would: a new input's `default:` applies. The journal keeps an input nobody gave as null, which is
 * never a value of an input type: it is given to no one here either. An input the pipeline no
 * longer declares is dropped — its templates cannot read it. Throws ConfigError when a stored value
 * no longer fits (a changed type or enum) or a new required input is missing.
 */
function inputsForChanged(record: RunRecord, current: LoadedPipeline): Record<string, unknown> {
  const declared = current.pipeline.inputs ?? {};
  // A run journaled before `givenInputs` was kept: every stored value counts as given.
  const givenNames = record.metadata.givenInputs;
  const wasGiven = (name: string) => !Array.isArray(givenNames) || givenNames.includes(name);
  const given = Object.fromEntries(
    Object.entries(record.inputs).filter(
      ([name, value]) => value !== null && Object.hasOwn(declared, name) && wasGiven(name),
    ),
  );
  return resolveInputs(current, given);
}

/**
 * What the run's forgotten steps will have spent once `forget` go: their rows and items (and those
 * nested under them) are deleted — a re-run must not reuse them — but the money was paid. The
 * journal keeps it with the run (Store.deleteSteps), so that the run's totals and the budget of
 * every later attempt still count it; a second --force adds to what the first forgot.
 */
async function forgottenSpend(
  store: Store,
  runId: string,
  journaled: StepRecord[],
  forget: string[],
): Promise<RunTotals> {
  const gone = (key: string) => forget.some((k) => key === k || key.startsWith(`${k}/`));
  const items = (await store.itemTotals(runId)).filter((i) => i.stepKey === FORGOTTEN_STEPS || gone(i.stepKey));
  const steps = journaled.filter((s) => gone(s.key));
  return totalsOf(steps, items);
}

/** The journal keys a step may own: its name, and those of its nested steps. */
function stepKeys(step: { name: string; steps?: unknown[] }): string[] {
  const nested = Array.isArray(step.steps) ? (step.steps as { name: string }[]).flatMap(stepKeys) : [];
  return [step.name, ...nested];
}

function pickRunOptions(options: StartOptions | ResumeOptions): RunOptions {
  const picked: RunOptions = {};
  const o = options as StartOptions;
  if (o.mock !== undefined) picked.mock = o.mock;
  if (o.maxCostUsd !== undefined) picked.maxCostUsd = o.maxCostUsd;
  if (o.maxTokens !== undefined) picked.maxTokens = o.maxTokens;
  if (o.stream !== undefined) picked.stream = o.stream;
  if (o.record !== undefined) picked.record = o.record;
  if (o.replay !== undefined) picked.replay = o.replay;
  return picked;
}

export { providerType };
