// The CLI entry: builds the commander program from one file per command and turns every
// outcome into an exit code. Errors are printed as a sentence and a hint; a stack trace
// appears only with --debug.
import { Command, CommanderError } from 'commander';
import { ElexirionError, ExitCode } from '../errors.js';
import { commands } from './commands/index.js';
import { type CliContext, createCliContext } from './context.js';
import { VERSION } from './version.js';

export async function main(argv: string[], ctx: CliContext = createCliContext()): Promise<number> {
  const program = new Command('elexirion')
    .description('Run AI workflows written in YAML: supervised, journaled, resumable, observable.')
    .version(VERSION, '-V, --version')
    .option('--debug', 'print stack traces of errors')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .exitOverride();

  let exitCode: number = ExitCode.ok;
  for (const register of commands) {
    register(program, ctx, (code) => {
      exitCode = code;
    });
  }

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage mistakes are invalid input.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.invalidInput;
    }
    return reportError(error, ctx, program.opts<{ debug?: boolean }>().debug === true);
  }
}

export function reportError(error: unknown, ctx: CliContext, debug: boolean): number {
  const c = ctx.colors;
  if (error instanceof ElexirionError) {
    ctx.stderr.write(`${c.red('error')}: ${error.message}\n`);
    if (error.hint) ctx.stderr.write(`${c.dim('hint')}: ${error.hint}\n`);
    if (debug && error.stack) ctx.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  ctx.stderr.write(`${c.red('internal error')}: ${message}\n`);
  if (debug && error instanceof Error && error.stack) ctx.stderr.write(`${error.stack}\n`);
  else ctx.stderr.write(`${c.dim('hint')}: this is a bug in Elexirion; run again with --debug for the stack trace\n`);
  return ExitCode.internal;
}
