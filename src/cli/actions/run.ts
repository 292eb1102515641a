// What `elexirion run FILE` does (commands/run.ts defines its flags): loaded when the command runs.
import { loadPipeline } from '../../config/loader.js';
import { UsageError } from '../../errors.js';
import type { RunFlags } from '../commands/run.js';
import type { CliContext } from '../context.js';
import { maxCostOption } from '../option-values.js';
import { parseInputs } from '../parse-inputs.js';
import { cassettes, runSession } from '../run-session.js';

/** Runs the pipeline in `file` here (or, with --cluster, on the cluster); returns the exit code. */
export async function runCommand(file: string, flags: RunFlags, ctx: CliContext): Promise<number> {
  const maxCostUsd = maxCostOption(flags.maxCost);
  const loaded = await loadPipeline(file, { cwd: ctx.cwd });
  const given = parseInputs(flags.input, flags.inputs, ctx.cwd);
  const start = {
    inputs: given,
    ...(flags.mock ? { mock: true } : {}),
    ...(flags.stream ? { stream: true } : {}),
    ...(maxCostUsd === undefined ? {} : { maxCostUsd }),
  };
  const runLocally = () =>
    runSession(ctx, flags, (engine) => engine.start(loaded, { ...start, ...cassettes(flags, ctx) }));
  if (flags.cluster && (flags.record || flags.replay)) {
    throw new UsageError('--record and --replay work on this machine only', 'drop --cluster, or the cassette');
  }
  if (!flags.cluster) return runLocally();
  const { runClusterSession } = await import('../../cluster/cluster-session.js');
  return runClusterSession(ctx, flags, loaded, start, runLocally);
}
