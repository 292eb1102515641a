// The end of a run on the terminal: the outcome, the outputs, the totals. One printer for `run`,
// `resume`, `runs show` and `chain`, so a run always reads the same wherever it is shown.
import { stringify } from 'yaml';
import type { RunResult } from '../engine/run-result.js';
import { ExitCode } from '../errors.js';
import type { CliContext } from './context.js';
import { formatCost, formatDuration, formatTokens } from './format.js';

export function exitCodeOf(result: RunResult): number {
  switch (result.status) {
    case 'succeeded':
      return ExitCode.ok;
    case 'interrupted':
    case 'cancelled':
      return ExitCode.interrupted;
    default:
      return ExitCode.runFailed;
  }
}

export interface SummaryOptions {
  /**
   * Print the hint to resume the run (default true). Not for a chain's link: resumed alone, the
   * link's run would not go on with the links after it — the chain prints its own hint at its end.
   */
  resumeHint?: boolean;
}

export function printRunSummary(result: RunResult, ctx: CliContext, options: SummaryOptions = {}): void {
  const resumeHint = options.resumeHint ?? true;
  const c = ctx.colors;
  const t = result.totals;
  const duration = result.duration_ms === undefined ? '' : ` in ${formatDuration(result.duration_ms)}`;
  const status =
    result.status === 'succeeded'
      ? c.green(result.status)
      : result.status === 'failed'
        ? c.red(result.status)
        : c.yellow(result.status);
  ctx.stdout.write(`\n${c.bold(result.pipeline)} ${status}${duration} ${c.dim(`(run ${result.run_id})`)}\n`);
  if (result.status === 'failed') {
    ctx.stdout.write(`${c.red('failed at')} ${result.failed_step ?? '(run)'}: ${result.error ?? ''}\n`);
    if (resumeHint)
      ctx.stdout.write(
        `${c.dim('hint')}: fix the cause, then \`elexirion resume ${result.run_id}\` continues from the journal\n`,
      );
  }
  if (resumeHint && (result.status === 'interrupted' || result.status === 'cancelled')) {
    ctx.stdout.write(`${c.dim('hint')}: \`elexirion resume ${result.run_id}\` continues where it stopped\n`);
  }
  if (Object.keys(result.outputs).length > 0) {
    ctx.stdout.write(`${c.bold('outputs')}:\n${indent(stringify(result.outputs).trimEnd())}\n`);
  }
  const unpriced = t.unpriced_calls > 0 ? c.yellow(` (+ ${t.unpriced_calls} call(s) of unknown price)`) : '';
  const cache = t.cache_hits > 0 ? `, ${t.cache_hits} cache hit(s) saved ${formatCost(t.cost_saved_usd)}` : '';
  const retries = t.retries > 0 ? `, ${t.retries} retries` : '';
  ctx.stdout.write(
    `${c.bold('totals')}: ${t.calls} call(s), ${formatTokens(t)}, ${formatCost(t.cost_usd)}${unpriced}${cache}${retries}\n`,
  );
}

/** One line per step: the table of `runs show`. */
export function printSteps(result: RunResult, ctx: CliContext): void {
  const c = ctx.colors;
  const width = Math.max(4, ...result.steps.map((s) => s.key.length));
  ctx.stdout.write(`${c.bold('step'.padEnd(width))}  status     attempts  duration   tokens            cost\n`);
  for (const s of result.steps) {
    const d = s.details ?? {};
    const extra = [
      Number(d.retries ?? 0) > 0 ? `${d.retries} retries` : '',
      Number(d.cache_hits ?? 0) > 0
        ? `${d.cache_hits} cache hit(s), saved ${formatCost(Number(d.cost_saved_usd ?? 0))}`
        : '',
      s.error ? c.red(s.error) : '',
    ].filter(Boolean);
    ctx.stdout.write(
      `${s.key.padEnd(width)}  ${s.status.padEnd(9)}  ${String(s.attempts).padStart(8)}  ${formatDuration(s.duration_ms).padStart(8)}   ${formatTokens(s.usage).padEnd(16)}  ${formatStepCost(s)}${extra.length ? c.dim(`  ${extra.join('; ')}`) : ''}\n`,
    );
  }
}

/** A step's cost: `$?` when no call of it was priced, `$0.02+?` when only some were. */
function formatStepCost(s: RunResult['steps'][number]): string {
  const unpriced = s.cost_usd !== null && Number(s.details?.unpriced_calls ?? 0) > 0;
  return unpriced ? `${formatCost(s.cost_usd)}+?` : formatCost(s.cost_usd);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
