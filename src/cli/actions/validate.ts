// What `elexirion validate` does (commands/validate.ts defines its flags): loaded when it runs.
import { type LoadedPipeline, loadPipeline } from '../../config/loader.js';
import { ConfigError, type Diagnostic, ExitCode } from '../../errors.js';
import type { CliContext } from '../context.js';

type FileReport =
  | { file: string; ok: true; pipeline: string; steps: number; inputs: number; hash: string }
  | { file: string; ok: false; diagnostics: Diagnostic[] };

/** Validates every file, prints the reports; returns the exit code. */
export async function validateCommand(
  files: string[],
  options: { json?: boolean },
  debug: boolean,
  ctx: CliContext,
): Promise<number> {
  const reports: FileReport[] = [];
  for (const file of files) reports.push(await validateFile(file, ctx, debug && !options.json));
  if (options.json) printJson(reports, ctx);
  else printText(reports, ctx);
  return reports.every((r) => r.ok) ? ExitCode.ok : ExitCode.invalidInput;
}

async function validateFile(file: string, ctx: CliContext, debug: boolean): Promise<FileReport> {
  let loaded: LoadedPipeline;
  try {
    loaded = await loadPipeline(file, { cwd: ctx.cwd });
  } catch (error) {
    // Only a ConfigError is the user's to fix; anything else is a bug and goes to main's handler.
    if (!(error instanceof ConfigError)) throw error;
    if (debug && error.stack) ctx.stderr.write(`${error.stack}\n`);
    return { file, ok: false, diagnostics: error.diagnostics };
  }
  const { pipeline } = loaded;
  return {
    file,
    ok: true,
    pipeline: pipeline.name,
    steps: pipeline.steps.length,
    inputs: Object.keys(pipeline.inputs ?? {}).length,
    hash: loaded.hash,
  };
}

function printText(reports: FileReport[], ctx: CliContext): void {
  // Each stream colored by its own terminal: the ✓ lines go to stdout, the problems to stderr.
  const c = ctx.colors;
  const e = ctx.stderrColors;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  for (const report of reports) {
    if (report.ok) {
      ctx.stdout.write(
        `${c.green('✓')} ${report.file}: pipeline "${report.pipeline}", ${plural(report.steps, 'step')}, ${plural(report.inputs, 'input')}\n`,
      );
      continue;
    }
    for (const d of report.diagnostics) {
      const at = d.path ? ` at ${e.cyan(d.path)}` : '';
      ctx.stderr.write(`${e.bold(`${d.file}:${d.line}:${d.col}`)}: ${e.red(d.message)}${at}\n`);
      if (d.hint) ctx.stderr.write(`  ${e.dim('hint')}: ${d.hint}\n`);
    }
  }
  const failed = reports.filter((r) => !r.ok);
  if (failed.length > 0) {
    const errors = failed.reduce((n, r) => n + (r.ok ? 0 : r.diagnostics.length), 0);
    ctx.stderr.write(
      `${e.red('✗')} ${failed.length} of ${plural(reports.length, 'file')} invalid (${plural(errors, 'error')})\n`,
    );
  }
}

function printJson(reports: FileReport[], ctx: CliContext): void {
  ctx.stdout.write(`${JSON.stringify({ ok: reports.every((r) => r.ok), files: reports }, null, 2)}\n`);
}
