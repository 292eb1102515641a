// `chain`: runs pipelines one after another, the outputs of each becoming the inputs of the next
// (those it declares). It halts on the first link that does not succeed and names it. Each link is
// an ordinary run, journaled and resumable; the chain's id is the run id of its first link, whose
// metadata keeps the chain (files, inputs, the run of every link started so far), so that
// `resumeChain(id)` resumes the link that stopped and goes on with the rest.
import { basename, resolve } from 'node:path';
import type { Engine, RunHandle } from '../engine/engine.js';
import type { RunResult } from '../engine/run-result.js';
import { ConfigError, ElexirionError, UsageError } from '../errors.js';
import type { RunStatus } from '../journal/store.js';
import { assertClaudeCodeReady } from '../providers/claude-code/preflight.js';
import { assertProviderKeys } from '../providers/step-providers.js';
import { type ChainLink, linkInputs, linkName, planChain, requiredInputsOutputAsNull } from './chain-plan.js';

export interface ChainOptions {
  /** The engine the links run on (its journal keeps them). */
  engine: Engine;
  /** Inputs for the chain: each goes to every link that declares it; a previous link's output wins. */
  inputs?: Record<string, unknown>;
  mock?: boolean;
  /** Relative files resolve against it (default: the process's working directory). */
  cwd?: string;
  /**
   * Told when a link starts (or resumes) — before its run does, so that what announces the link
   * comes before the run's own events — and when it ends.
   */
  onLink?: (event: LinkEvent) => void;
  /**
   * Stops the chain: its running link ends interrupted (resumable), and no further link starts.
   * Aborted before the chain is started (at the call, or while its files load), `chain` rejects
   * with its reason: nothing was run. Aborted once its first link's run is being started, it
   * resolves `interrupted`, with the chain's id, resumable.
   */
  signal?: AbortSignal;
}

export interface LinkEvent {
  phase: 'start' | 'resume' | 'end';
  link: number;
  of: number;
  file: string;
  runId: string;
  result?: RunResult;
}

export interface ChainLinkResult {
  link: number;
  file: string;
  run_id: string;
  status: RunStatus;
  outputs: Record<string, unknown>;
  error?: string;
  failed_step?: string;
}

export interface ChainResult {
  /** The run id of the first link: give it to `resumeChain` / `elexirion chain --resume`. */
  chain_id: string;
  status: RunStatus;
  /** The last link's outputs when the chain succeeded. */
  outputs: Record<string, unknown>;
  links: ChainLinkResult[];
  /** Which link stopped the chain, and why. */
  error?: string;
  failed_link?: number;
}

/** What the first link's run keeps about its chain (in `metadata.chain`). */
interface ChainMetadata {
  id: string;
  link: number;
  of: number;
  files?: string[];
  inputs?: Record<string, unknown>;
  mock?: boolean;
  runs?: string[];
}

/**
 * Runs `files` as a chain. A `signal` aborted before the first link starts (already when called,
 * or while the files load) rejects with its reason and starts nothing, as `run` and `resume` do:
 * with no run there is no chain id to resume.
 */
export async function chain(files: string[], options: ChainOptions): Promise<ChainResult> {
  const { signal } = options;
  signal?.throwIfAborted();
  const cwd = options.cwd ?? process.cwd();
  const given = options.inputs ?? {};
  const links = await planChain(files, given, cwd);
  if (options.mock !== true) await assertLinksReady(links, options.engine);
  signal?.throwIfAborted();
  const state: ChainState = {
    engine: options.engine,
    files: links.map((l) => l.loaded.file),
    given,
    mock: options.mock === true,
    runs: [],
    ...(options.onLink ? { onLink: options.onLink } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  return continueChain(state, links, cwd);
}

export interface ResumeChainOptions {
  engine: Engine;
  /**
   * The stopped link's pipeline file changed since its run started (the fix of what failed): run it
   * again from the first changed step, as `elexirion resume --force` does for a run.
   */
  force?: boolean;
  onLink?: (event: LinkEvent) => void;
  signal?: AbortSignal;
}

/** Resumes the link that stopped the chain `chainId`, then runs the links after it. */
export async function resumeChain(chainId: string, options: ResumeChainOptions): Promise<ChainResult> {
  const head = await options.engine.store.getRun(chainId);
  const meta = head?.metadata.chain as ChainMetadata | undefined;
  if (!head || !meta || meta.id !== chainId || !meta.files) {
    throw new UsageError(
      `${head ? `run ${chainId} is not the first link of a chain` : `no run with id ${chainId}`}`,
      'give the chain id `elexirion chain` printed (the run id of its first link)',
    );
  }
  const links = await planChain(meta.files, meta.inputs ?? {}, '/');
  const runs = [...(meta.runs ?? [chainId])];
  // A link whose run was created but not yet recorded in the chain (killed in between): adopt it.
  const orphan = await orphanLink(options.engine, chainId, runs.length + 1);
  if (orphan !== undefined) {
    runs.push(orphan);
    // Recorded before it runs (as startLink does): once resumed it has an owner, and no later
    // resume of the chain would recognize it as the link's run.
    await options.engine.store.updateRun(chainId, { metadata: { ...head.metadata, chain: { ...meta, runs } } });
  }
  const state: ChainState = {
    engine: options.engine,
    files: meta.files,
    given: meta.inputs ?? {},
    mock: meta.mock === true,
    runs,
    ...(options.force ? { force: true } : {}),
    ...(options.onLink ? { onLink: options.onLink } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  return continueChain(state, links, '/');
}

/**
 * The run of link `link` of chain `chainId` that startLink created but did not get to record in the
 * chain's head (the process died in between): never started, so still `running` with no owner.
 */
async function orphanLink(engine: Engine, chainId: string, link: number): Promise<string | undefined> {
  const running = await engine.store.listRuns({ status: 'running', limit: 500 });
  const orphan = running.find((r) => {
    const meta = r.metadata.chain as ChainMetadata | undefined;
    return meta?.id === chainId && meta.link === link && r.metadata.pid === undefined;
  });
  return orphan?.id;
}

/**
 * Every link's provider keys and claude_code readiness (the SDK, a named executable, from the
 * engine's env), before the first link runs: a key or an executable missing for link 3 must not be
 * found after links 1 and 2 were paid for (exit 2, naming the link). The links start through
 * engine.create / resume, which check neither.
 */
async function assertLinksReady(links: ChainLink[], engine: Engine): Promise<void> {
  for (const link of links) {
    try {
      assertProviderKeys(link.loaded.pipeline, engine.env, link.loaded.dir);
      await assertClaudeCodeReady(link.loaded, engine.env);
    } catch (error) {
      if (!(error instanceof ElexirionError)) throw error;
      throw new ElexirionError(`${linkName(link)}: ${error.message}`, {
        exitCode: error.exitCode,
        ...(error.hint === undefined ? {} : { hint: error.hint }),
      });
    }
  }
}

interface ChainState {
  engine: Engine;
  files: string[];
  given: Record<string, unknown>;
  mock: boolean;
  /** Run id per link started so far; runs[0] is the chain id. */
  runs: string[];
  onLink?: (event: LinkEvent) => void;
  signal?: AbortSignal;
  /** A resumed chain's stopped link runs its changed file (ResumeChainOptions.force). */
  force?: boolean;
}

async function continueChain(state: ChainState, links: ChainLink[], cwd: string): Promise<ChainResult> {
  const { engine } = state;
  const results: ChainLinkResult[] = [];
  let previousOutputs: Record<string, unknown> | undefined;
  for (const [i, link] of links.entries()) {
    const file = resolve(cwd, link.file);
    const known = state.runs[i];
    let result: RunResult;
    if (known !== undefined && (await engine.store.getRun(known))?.status === 'succeeded') {
      result = await engine.result(known);
    } else {
      if (state.signal?.aborted) {
        return {
          chain_id: state.runs[0] ?? '',
          status: 'interrupted',
          outputs: {},
          links: results,
          error: `interrupted before ${linkName(link)} started`,
          failed_link: link.link,
        };
      }
      let handle: RunHandle;
      try {
        handle =
          known === undefined
            ? await startLink(state, link, file, previousOutputs)
            : await resumeLink(state, link, file, known);
      } catch (error) {
        // The first link's bad inputs are the user's (exit 2); a later link's come from the chain.
        if (i === 0 || !(error instanceof ConfigError)) throw error;
        return {
          chain_id: state.runs[0] as string,
          status: 'failed',
          outputs: {},
          links: results,
          error: `${linkName(link)} could not start: ${error.message}${nullCause(link, links[i - 1], state, previousOutputs)}`,
          failed_link: link.link,
        };
      }
      // Stopped while the link was being started (its run journaled, not yet active: engine.stopAll
      // did not see it): the link's run ends interrupted, resumable, as if stopped a moment later.
      if (state.signal?.aborted) handle.stop('interrupted');
      // The signal stops the running link too: a library caller has no engine.stopAll of its own to
      // call (the CLI's Ctrl-C does both; a second stop of a run is a no-op).
      const stopLink = () => handle.stop('interrupted');
      state.signal?.addEventListener('abort', stopLink, { once: true });
      try {
        result = await handle.result;
      } finally {
        state.signal?.removeEventListener('abort', stopLink);
      }
      state.onLink?.({ phase: 'end', ...where(link, file), runId: handle.runId, result });
    }
    results.push(linkResult(link, file, result));
    if (result.status !== 'succeeded') {
      const why =
        result.status === 'failed'
          ? `failed${result.failed_step ? ` at step ${result.failed_step}` : ''}: ${result.error ?? 'unknown error'}`
          : `was ${result.status}`;
      return {
        chain_id: state.runs[0] ?? result.run_id,
        status: result.status,
        outputs: {},
        links: results,
        error: `${linkName(link)} ${why}`,
        failed_link: link.link,
      };
    }
    previousOutputs = result.outputs;
  }
  return {
    chain_id: state.runs[0] as string,
    status: 'succeeded',
    outputs: previousOutputs ?? {},
    links: results,
  };
}

/** Why a link's required input is missing when the link before output it as null; else ''. */
function nullCause(
  link: ChainLink,
  previous: ChainLink | undefined,
  state: ChainState,
  previousOutputs: Record<string, unknown> | undefined,
): string {
  const names = requiredInputsOutputAsNull(link.loaded, state.given, previousOutputs);
  if (previous === undefined || names.length === 0) return '';
  const quoted = names.map((n) => `"${n}"`).join(', ');
  return (
    `\n  ${linkName(previous)} output ${quoted} as null (a skipped or failed step's output).` +
    ` A resumed chain keeps that link's outputs and its --input values: give ${names.length > 1 ? 'these inputs' : 'the input'} a default in ${basename(link.file)} and resume,` +
    ' or start the chain again with --input'
  );
}

/**
 * Starts a link in two durable steps: its run is created in the journal (not started) and written
 * into the chain's record first, and only then run. A chain killed in between knows the link's
 * run, and `resumeChain` resumes it — it never starts the link afresh and pays for its steps twice.
 */
async function startLink(
  state: ChainState,
  link: ChainLink,
  file: string,
  previousOutputs: Record<string, unknown> | undefined,
): Promise<RunHandle> {
  const { engine } = state;
  const chainId = state.runs[0];
  const meta: ChainMetadata = { id: chainId ?? '', link: link.link, of: link.of };
  const created = await engine.create(link.loaded, {
    inputs: linkInputs(link.loaded, state.given, previousOutputs),
    ...(state.mock ? { mock: true } : {}),
    // The first link's id is the chain's: it is only known once that run exists (patched below).
    metadata: { chain: meta },
  });
  state.runs.push(created.id);
  const headId = state.runs[0] as string;
  const head = headId === created.id ? created : await engine.store.getRun(headId);
  if (head) {
    const chainMeta: ChainMetadata = {
      ...(head.metadata.chain as ChainMetadata),
      id: headId,
      files: state.files,
      inputs: state.given,
      mock: state.mock,
      runs: state.runs,
    };
    await engine.store.updateRun(headId, { metadata: { ...head.metadata, chain: chainMeta } });
  }
  // The document the link was planned with, which its run holds: a link file edited while the links
  // before it ran is not a resumed run's changed pipeline (that refusal would leave the link's run
  // ownerless and the chain stuck). Loaded from the file, it also has the file's positions for
  // the diagnostics of the run (the journal's copy has none).
  announce(state, link, file, 'start', created.id);
  return engine.resume(created.id, { fromJournal: true, pipeline: link.loaded });
}

/**
 * A link whose run the chain knows: created and never started (the chain was killed in between) —
 * its planned document, as startLink would have run it; else a resume of what it started, or with
 * `force` of its changed file.
 */
async function resumeLink(state: ChainState, link: ChainLink, file: string, runId: string): Promise<RunHandle> {
  const run = await state.engine.store.getRun(runId);
  const neverStarted = run?.status === 'running' && run.metadata.pid === undefined;
  // The file as loaded now is run only if it is still the planned document (same hash).
  if (neverStarted && !state.force) {
    announce(state, link, file, 'resume', runId);
    return state.engine.resume(runId, { fromJournal: true, pipeline: link.loaded });
  }
  // Refused here rather than by the engine's resume, whose hint (`resume with --force`) reads as
  // `elexirion resume RUN_ID --force`: that would resume the link's run alone, not the chain.
  if (!state.force && run !== undefined && run.pipelineHash !== link.loaded.hash) {
    const chainId = state.runs[0] ?? runId;
    throw new UsageError(
      `${linkName(link)} changed since its run ${runId} started; resuming it would mix two pipelines`,
      `restore the file, or \`elexirion chain --resume ${chainId} --force\` to re-run the link from its first changed step`,
    );
  }
  announce(state, link, file, 'resume', runId);
  return state.engine.resume(runId, state.force ? { force: true } : {});
}

/** Tells onLink that the link's run is about to start: before the run's first event. */
function announce(state: ChainState, link: ChainLink, file: string, phase: 'start' | 'resume', runId: string): void {
  state.onLink?.({ phase, ...where(link, file), runId });
}

function where(link: ChainLink, file: string) {
  return { link: link.link, of: link.of, file };
}

function linkResult(link: ChainLink, file: string, result: RunResult): ChainLinkResult {
  return {
    link: link.link,
    file,
    run_id: result.run_id,
    status: result.status,
    outputs: result.outputs,
    ...(result.error === undefined ? {} : { error: result.error }),
    ...(result.failed_step === undefined ? {} : { failed_step: result.failed_step }),
  };
}
