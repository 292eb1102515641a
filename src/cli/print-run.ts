// The end of a run on the terminal: the outcome, the outputs, the totals. One printer for `run`,
// `resume`, `runs show` and `chain`, so a run always reads the same wherever it is shown.
import { stringify } from 'yaml';
import type { RunResult } from '../engine/run-result.js';
import { ExitCode } from '../errors.js';
import type { CliContext } from './context.js';
import { count, formatCost, formatDuration, formatPartialCost, formatTokens } from './format.js';

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
    if (resumeHint) ctx.stdout.write(`${c.dim('hint')}: ${failedRunHint(result)}\n`);
  }
  // Why it stopped, when it says more than that it stopped (a Ctrl-C's run says only that): the
  // cluster giving up on its job, a drain, a shutdown.
  const stopped = result.status === 'interrupted' || result.status === 'cancelled';
  if (stopped && result.error && result.error !== `the run was ${result.status}`) {
    ctx.stdout.write(`${c.yellow(`${result.status}`)}: ${result.error}\n`);
  }
  if (resumeHint && stopped) {
    ctx.stdout.write(`${c.dim('hint')}: \`elexirion resume ${result.run_id}\` continues where it stopped\n`);
  }
  if (Object.keys(result.outputs).length > 0) {
    ctx.stdout.write(`${c.bold('outputs')}:\n${indent(stringify(result.outputs).trimEnd())}\n`);
  }
  // Nothing of the cost known (`$?`): the count says why; part of it known: what it leaves out.
  const plus = t.cost_usd === 0 ? '' : '+ ';
  const unpriced = t.unpriced_calls > 0 ? c.yellow(` (${plus}${t.unpriced_calls} call(s) of unknown price)`) : '';
  const cache = t.cache_hits > 0 ? `, ${t.cache_hits} cache hit(s) saved ${formatCost(t.cost_saved_usd)}` : '';
  const retries = t.retries > 0 ? `, ${count(t.retries, 'retry', 'retries')}` : '';
  const cost = t.unpriced_calls > 0 && t.cost_usd === 0 ? '$?' : formatCost(t.cost_usd);
  ctx.stdout.write(
    `${c.bold('totals')}: ${t.calls} call(s), ${formatTokens(t)}, ${cost}${unpriced}${cache}${retries}\n`,
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
      Number(d.retries ?? 0) > 0 ? count(Number(d.retries), 'retry', 'retries') : '',
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
  return formatPartialCost(s.cost_usd, Number(s.details?.unpriced_calls ?? 0));
}

/**
 * What to do about a failed run. A run its budget stopped needs no fix of its own: a higher limit
 * (`resume --max-cost`), or for a token limit a raised `budget.max_tokens` (a changed pipeline:
 * `resume --force`, which keeps every step, a changed `budget` invalidating none).
 */
function failedRunHint(result: RunResult): string {
  const id = result.run_id;
  const error = result.error ?? '';
  if (/\bbudget: step "[^"]*" stopped before calling .* of max_cost_usd \$/.test(error)) {
    return `\`elexirion resume ${id} --max-cost USD\` continues from the journal with a higher cost limit (finished steps are kept)`;
  }
  if (/\bbudget: step "[^"]*" stopped before calling .* of max_tokens \d/.test(error)) {
    return `raise \`budget.max_tokens\` in the pipeline, then \`elexirion resume ${id} --force\` continues from the journal (finished steps are kept)`;
  }
  // A resume answers from the same cassette (the run keeps it) and would miss again.
  if (/\breplay: the cassette .* holds no answer for step "/.test(error)) {
    return `the pipeline (or an endpoint) changed since the cassette was recorded: record the cassette again with --record FILE, or give \`elexirion resume ${id} --replay FILE\` one that holds the call`;
  }
  return `fix the cause, then \`elexirion resume ${id}\` continues from the journal`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
