// The library API. The quick path is three functions — `loadPipeline`, `run`, `resume` — over a
// journal file; the parts (Engine, stores, the event bus, providers) are exported for those who
// embed Elexirion in a service of their own.
import { resolve } from 'node:path';
import { type LoadedPipeline, loadPipeline } from './config/loader.js';
import { Engine, type EngineOptions, type ResumeOptions, type StartOptions } from './engine/engine.js';
import type { RunResult } from './engine/run-result.js';
import { POSTGRES_URL } from './journal/postgres-connection.js';
import { PostgresStore } from './journal/postgres-store.js';
import { SqliteStore } from './journal/sqlite-store.js';
import type { Store } from './journal/store.js';

export type { ChainOptions, ChainResult } from './chain/chain.js';
export { chain, resumeChain } from './chain/chain.js';
export { resolveInputs } from './config/inputs.js';
export { type LoadedPipeline, loadPipeline, loadPipelineFromString } from './config/loader.js';
export type { Pipeline, Step } from './config/schema.js';
export { Engine, type EngineOptions, type ResumeOptions, type RunHandle, type StartOptions } from './engine/engine.js';
export type { RunResult, StepResult } from './engine/run-result.js';
export { ConfigError, type Diagnostic, ElexirionError, ExitCode, UsageError } from './errors.js';
export { CassetteMissError, CassettePlayer, CassetteRecorder } from './journal/cassette.js';
export { PostgresStore, type PostgresStoreOptions } from './journal/postgres-store.js';
export { SqliteStore } from './journal/sqlite-store.js';
export type { RunRecord, RunStatus, StepRecord, Store } from './journal/store.js';
export { MockProvider } from './providers/mock.js';
export type { ModelRequest, ModelResponse, Provider, Usage } from './providers/provider.js';
export { ProviderError } from './providers/provider-error.js';
export { MissingKeyError } from './providers/settings.js';
export { EventBus } from './telemetry/event-bus.js';
export type { ElexirionEvent, EventMap, EventType } from './telemetry/events.js';

export interface RunOptions extends StartOptions {
  /** The journal: a Store, a SQLite file path (default `.elexirion/elexirion.db`) or a postgres:// URL. */
  db?: Store | string;
  /** Options of the Engine created for this run (an event bus to watch it, provider factories …). */
  engine?: Omit<EngineOptions, 'store'>;
  /**
   * Aborting it stops the run as Ctrl-C does: the promise resolves with `status: 'interrupted'`,
   * resumable with `resume(result.run_id)`. Already aborted: rejects with its reason, nothing run.
   */
  signal?: AbortSignal;
}

/**
 * Runs a pipeline (a file path or a loaded pipeline) to its end and returns its result. A failed run
 * resolves with `status: 'failed'`; invalid pipelines and inputs reject with a ConfigError, a
 * missing provider key with a MissingKeyError (all ElexirionErrors, with the CLI's `exitCode`).
 */
export async function run(pipeline: string | LoadedPipeline, options: RunOptions = {}): Promise<RunResult> {
  // Already aborted: its reason, before any work (a file that does not load included).
  options.signal?.throwIfAborted();
  const loaded = typeof pipeline === 'string' ? await loadPipeline(pipeline) : pipeline;
  return withEngine(options, (engine) => engine.start(loaded, options));
}

/** Continues a failed, interrupted or killed run from its journal. */
export async function resume(
  runId: string,
  options: ResumeOptions & Pick<RunOptions, 'db' | 'engine' | 'signal'> = {},
): Promise<RunResult> {
  return withEngine(options, (engine) => engine.resume(runId, options));
}

async function withEngine(
  options: Pick<RunOptions, 'db' | 'engine' | 'signal'>,
  begin: (engine: Engine) => ReturnType<Engine['start']>,
): Promise<RunResult> {
  const { signal } = options;
  signal?.throwIfAborted();
  const owned = typeof options.db !== 'object';
  const location = typeof options.db === 'object' ? undefined : (options.db ?? process.env.ELEXIRION_DB);
  const store: Store =
    typeof options.db === 'object'
      ? options.db
      : location !== undefined && POSTGRES_URL.test(location)
        ? new PostgresStore(location)
        : new SqliteStore(resolve(location ?? '.elexirion/elexirion.db'));
  try {
    const engine = new Engine({ ...options.engine, store });
    const handle = await begin(engine);
    // Checked again once the run exists: an abort while it was being started stops it at once.
    const stop = () => handle.stop('interrupted');
    if (signal?.aborted) stop();
    signal?.addEventListener('abort', stop, { once: true });
    try {
      return await handle.result;
    } finally {
      signal?.removeEventListener('abort', stop);
    }
  } finally {
    if (owned) await store.close();
  }
}
