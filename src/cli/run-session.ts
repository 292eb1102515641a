// What `run` and `resume` share: an engine on the chosen journal, progress on the terminal, Ctrl-C
// turned into a clean, resumable interruption, and the result printed (or as one JSON object).
import { Engine, type RunHandle } from '../engine/engine.js';
import type { RunResult } from '../engine/run-result.js';
import { CassettePlayer, CassetteRecorder } from '../journal/cassette.js';
import { otlpTracesUrl } from '../telemetry/otlp-traces-url.js';
import type { CliContext } from './context.js';
import { openStore } from './open-store.js';
import { exitCodeOf, printRunSummary } from './print-run.js';
import { attachProgress } from './progress.js';
import { VERSION } from './version.js';

export interface SessionOptions {
  db?: string;
  /** The session continues a journaled run (resume): the journal must exist. */
  existingJournal?: boolean;
  json?: boolean;
  stream?: boolean;
  record?: string;
  replay?: string;
}

export function cassettes(options: SessionOptions, ctx: CliContext) {
  // Made before the run is accepted, the recorder does not touch its file yet: a run refused (bad
  // input, a missing key) leaves a cassette recorded earlier as it was. The engine starts the
  // recording once it accepts the run, and renames it over the cassette when the run ends.
  const record = options.record ? new CassetteRecorder(resolvePath(ctx, options.record)) : undefined;
  return {
    ...(record ? { record } : {}),
    ...(options.replay ? { replay: new CassettePlayer(resolvePath(ctx, options.replay)) } : {}),
  };
}

function resolvePath(ctx: CliContext, path: string): string {
  return path.startsWith('/') ? path : `${ctx.cwd}/${path}`;
}

/** Runs `begin` on a fresh engine, follows the run to its end, prints it; returns the exit code. */
export async function runSession(
  ctx: CliContext,
  options: SessionOptions,
  begin: (engine: Engine) => Promise<RunHandle>,
): Promise<number> {
  const store = await openStore(options.db, ctx, { existing: options.existingJournal === true });
  const engine = new Engine({ store, env: ctx.env });
  // Spans only when a collector is named (as serve and worker): OpenTelemetry loads only then.
  let stopTracing: (() => Promise<void>) | undefined;
  try {
    if (otlpTracesUrl(ctx.env) !== undefined)
      stopTracing = (await import('./telemetry-from-env.js')).traceBusFromEnv(engine.bus, ctx.env, VERSION);
  } catch (error) {
    await store.close();
    throw error;
  }
  const detach = options.json ? () => {} : attachProgress(engine.bus, ctx, { stream: options.stream === true });
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(130); // a second Ctrl-C means now
    ctx.stderr.write(`\n${signal}: stopping; the run stays resumable (Ctrl-C again to quit at once)\n`);
    engine.stopAll('interrupted');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const handle = await begin(engine);
    // A Ctrl-C while the run was being started: the engine stops a start under way (stopAll), and
    // this catches one that came before `begin` reached it. Either way: interrupted, resumable.
    if (interrupts > 0) handle.stop('interrupted');
    const result: RunResult = await handle.result;
    detach();
    if (options.json) ctx.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else printRunSummary(result, ctx);
    return exitCodeOf(result);
  } finally {
    detach();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      await store.close();
    } finally {
      // The spans go out even when the journal failed to close: they may say why the run failed.
      await stopTracing?.();
    }
  }
}
