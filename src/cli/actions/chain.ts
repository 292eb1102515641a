// What `elexirion chain` does (commands/chain.ts defines its flags): loaded when the command runs.
import { type ChainResult, chain, type LinkEvent, resumeChain } from '../../chain/chain.js';
import { linkName } from '../../chain/chain-plan.js';
import { Engine } from '../../engine/engine.js';
import { normalizeRunId } from '../../engine/run-id.js';
import { ExitCode, UsageError } from '../../errors.js';
import type { ChainFlags } from '../commands/chain.js';
import type { CliContext } from '../context.js';
import { openStore } from '../open-store.js';
import { parseInputs } from '../parse-inputs.js';
import { printRunSummary } from '../print-run.js';
import { attachProgress } from '../progress.js';

/** Runs (or, with --resume, resumes) the chain; returns the exit code. */
export async function chainCommand(files: string[], flags: ChainFlags, ctx: CliContext): Promise<number> {
  if (files.length > 0 === (flags.resume !== undefined)) {
    throw new UsageError(
      flags.resume ? '--resume takes no files: the chain remembers them' : 'give the pipeline files of the chain',
      'elexirion chain a.yaml b.yaml [--input k=v]  |  elexirion chain --resume CHAIN_ID',
    );
  }
  if (flags.force && flags.resume === undefined) {
    throw new UsageError('--force goes with --resume', 'elexirion chain --resume CHAIN_ID --force');
  }
  if (flags.resume !== undefined && (flags.input?.length || flags.inputs || flags.mock)) {
    // Silently dropped, they would look taken: a resumed chain keeps what it was started with.
    throw new UsageError(
      '--resume continues a chain with the inputs and --mock it was started with; --input, --inputs and --mock cannot change them',
      'drop them, or start a new chain with the files and the inputs you want',
    );
  }
  return runChain(files, flags, ctx);
}

async function runChain(files: string[], flags: ChainFlags, ctx: CliContext): Promise<number> {
  const store = await openStore(flags.db, ctx, { existing: flags.resume !== undefined });
  const engine = new Engine({ store, env: ctx.env });
  const progress = flags.json ? undefined : attachProgress(engine.bus, ctx, { stream: false });
  const detach = () => progress?.();
  const onLink = (event: LinkEvent) => {
    if (!progress) return;
    // No `elexirion resume LINK_RUN` hint: that would resume the link alone, not the chain — the
    // chain's own hint (`chain --resume CHAIN_ID`) follows at its end.
    if (event.phase === 'end' && event.result) printRunSummary(event.result, ctx, { resumeHint: false });
    // Before the link's run begins, so before its `running …` / `resuming …` line, which says
    // which of the two it is; through the progress, so that it never lands on a live line.
    else if (event.phase !== 'end') progress.line(ctx.stderrColors.bold(linkName(event)));
  };
  // The active link's run ends interrupted (resumable); between two links, none is active: the
  // signal stops the chain before the next one. A second Ctrl-C means now, as for `run`.
  const stop = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    ctx.stderr.write(`\n${signal}: stopping; the chain stays resumable (Ctrl-C again to quit at once)\n`);
    stop.abort();
    engine.stopAll('interrupted');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = flags.resume
      ? await resumeChain(normalizeRunId(flags.resume), {
          engine,
          onLink,
          signal: stop.signal,
          ...(flags.force ? { force: true } : {}),
        })
      : await chain(files, {
          engine,
          inputs: parseInputs(flags.input, flags.inputs, ctx.cwd),
          cwd: ctx.cwd,
          ...(flags.mock ? { mock: true } : {}),
          onLink,
          signal: stop.signal,
        }).catch((error: unknown) => {
          // A Ctrl-C while the files loaded: `chain` starts nothing and rejects with the signal's
          // reason; the chain stopped before its first link, with no id (nothing to resume).
          if (!stop.signal.aborted || error !== stop.signal.reason) throw error;
          return notStarted(files);
        });
    detach();
    if (flags.json) ctx.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const c = ctx.colors;
      if (result.status === 'succeeded') {
        ctx.stdout.write(
          `\n${c.green('chain succeeded')}: ${result.links.length} link(s) ${c.dim(`(chain ${result.chain_id})`)}\n`,
        );
      } else {
        ctx.stdout.write(`\n${c.red('chain stopped')}: ${result.error}\n`);
        // Stopped before its first link began, a chain has no id and nothing to resume. An
        // interrupted (or cancelled) chain has nothing to fix: it goes on where it stopped.
        if (result.chain_id !== '')
          ctx.stdout.write(
            result.status === 'failed'
              ? `${c.dim('hint')}: fix the cause, then \`elexirion chain --resume ${result.chain_id}\` (add --force if the fix is in the link's file)\n`
              : `${c.dim('hint')}: \`elexirion chain --resume ${result.chain_id}\` continues where it stopped\n`,
          );
      }
    }
    if (result.status === 'succeeded') return ExitCode.ok;
    return result.status === 'failed' ? ExitCode.runFailed : ExitCode.interrupted;
  } finally {
    detach();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await engine.drain();
    await store.close();
  }
}

/** A chain stopped before its first link started: no run, so no chain id. */
function notStarted(files: string[]): ChainResult {
  const first = { link: 1, of: files.length, file: files[0] ?? '' };
  return {
    chain_id: '',
    status: 'interrupted',
    outputs: {},
    links: [],
    error: `interrupted before ${linkName(first)} started`,
    failed_link: 1,
  };
}
