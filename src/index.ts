// The library API. The quick path is three functions — `loadPipeline`, `run`, `resume` — over a
// journal file; the parts (Engine, stores, the event bus, providers) are exported for those who
// embed Elexirion in a service of their own.
import { resolve } from 'node:path';
import { type LoadedPipeline, loadPipeline } from './config/loader.js';
import { Engine, type EngineOptions, type ResumeOptions, type StartOptions } from './engine/engine.js';
import type { RunResult } from './engine/run-result.js';
import { SqliteStore } from './journal/sqlite-store.js';
import type { Store } from './journal/store.js';

export type { ChainOptions, ChainResult } from './chain/chain.js';
export { chain, resumeChain } from './chain/chain.js';
export { resolveInputs } from './config/inputs.js';
export { type LoadedPipeline, loadPipeline, loadPipelineFromString } from './config/loader.js';
export type { Pipeline, Step } from './config/schema.js';
export { Engine, type EngineOptions, type ResumeOptions, type RunHandle, type StartOptions } from './engine/engine.js';
export type { RunResult, StepResult } from './engine/run-result.js';
export { ConfigError, type Diagnostic, ElexirionError, ExitCode } from './errors.js';
export { SqliteStore } from './journal/sqlite-store.js';
export type { RunRecord, RunStatus, StepRecord, Store } from './journal/store.js';
export { MockProvider } from './providers/mock.js';
export type { ModelRequest, ModelResponse, Provider, Usage } from './providers/provider.js';
export { ProviderError } from './providers/provider-error.js';
export { EventBus } from './telemetry/event-bus.js';
export type { ElexirionEvent, EventMap, EventType } from './telemetry/events.js';

export interface RunOptions extends StartOptions {
  /** The journal: a Store, or a SQLite file path (default `.elexirion/elexirion.db`). */
  db?: Store | string;
  /** Options of the Engine created for this run (an event bus to watch it, provider factories …). */
  engine?: Omit<EngineOptions, 'store'>;
}

/**
 * Runs a pipeline (a file path or a loaded pipeline) to its end and returns its result. A failed run
 * resolves with `status: 'failed'`; invalid pipelines and inputs reject with a ConfigError.
 */
export async function run(pipeline: string | LoadedPipeline, options: RunOptions = {}): Promise<RunResult> {
  const loaded = typeof pipeline === 'string' ? await loadPipeline(pipeline) : pipeline;
  return withEngine(options, (engine) => engine.start(loaded, options));
}

/** Continues a failed, interrupted or killed run from its journal. */
export async function resume(
  runId: string,
  options: ResumeOptions & Pick<RunOptions, 'db' | 'engine'> = {},
): Promise<RunResult> {
  return withEngine(options, (engine) => engine.resume(runId, options));
}

async function withEngine(
  options: Pick<RunOptions, 'db' | 'engine'>,
  begin: (engine: Engine) => ReturnType<Engine['start']>,
): Promise<RunResult> {
  const owned = typeof options.db !== 'object';
  const store: Store =
    typeof options.db === 'object'
      ? options.db
      : new SqliteStore(resolve(options.db ?? process.env.ELEXIRION_DB ?? '.elexirion/elexirion.db'));
  try {
    const engine = new Engine({ ...options.engine, store });
    const handle = await begin(engine);
    return await handle.result;
  } finally {
    if (owned) await store.close();
  }
}
