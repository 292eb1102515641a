// The CLI entry: builds the commander program from one file per command and turns every
// outcome into an exit code. Errors are printed as a sentence and a hint; a stack trace
// appears only with --debug.
import { Command, CommanderError } from 'commander';
import { ConfigError, type Diagnostic, ElexirionError, ExitCode } from '../errors.js';
import { storageError } from '../journal/storage-errors.js';
import { commands } from './commands/index.js';
import { type CliContext, createCliContext } from './context.js';
import { asksForJson } from './early-signals.js';
import { flagsOf, type UsageMessage, usageError } from './usage-error.js';
import { VERSION } from './version.js';

export async function main(argv: string[], ctx: CliContext = createCliContext()): Promise<number> {
  const program = new Command('elexirion')
    .description('Run AI workflows written in YAML: supervised, journaled, resumable, observable.')
    .version(VERSION, '-V, --version')
    .option('--debug', 'print stack traces of errors')
    .addHelpText(
      'after',
      `
Exit codes: 0 success, 1 a run failed, 2 invalid input (a pipeline, an input, a usage mistake),
69 a service is unavailable (the journal, Redis, a port), 70 a bug in Elexirion, 130 interrupted.
\`elexirion COMMAND --help\` explains one command; docs/cli.md is the reference.`,
    )
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
  // Commander's usage errors in the form of every other error: a sentence, then a hint. Set on each
  // command, so that a did-you-mean can be picked among the flags of the one that refused a flag.
  let shown: UsageMessage | undefined;
  forEachCommand(program, (command) => {
    command.configureOutput({
      outputError: (text, write) => {
        shown = usageError(text, flagsOf(command));
        const c = ctx.stderrColors;
        write(`${c.red('error')}: ${shown.error}\n${c.dim('hint')}: ${shown.hint}\n`);
      },
    });
  });

  const json = asksForJson(argv);
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage mistakes are invalid input.
      if (error.exitCode === 0) return ExitCode.ok;
      // `help NAME` of a command that does not exist: Commander prints the whole help as an error,
      // without saying why.
      if (error.code === 'commander.help') {
        const name = argv[argv.lastIndexOf('help') + 1] ?? '';
        error.message = `unknown command ${JSON.stringify(name)}`;
        ctx.stderr.write(`error: ${error.message}\n`);
      }
      // Commander has printed its message on stderr already.
      if (json) writeJsonError(ctx, shown ?? usageError(error.message), ExitCode.invalidInput);
      return ExitCode.invalidInput;
    }
    return reportError(error, ctx, program.opts<{ debug?: boolean }>().debug === true, json);
  }
}

function forEachCommand(command: Command, visit: (command: Command) => void): void {
  visit(command);
  for (const sub of command.commands) forEachCommand(sub, visit);
}

/** The JSON form of an error: the shape of the HTTP API's error bodies, plus the exit code. */
interface JsonError {
  error: string;
  hint?: string;
  diagnostics?: Diagnostic[];
}

function writeJsonError(ctx: CliContext, body: JsonError, exitCode: number): void {
  ctx.stdout.write(`${JSON.stringify({ ...body, exit_code: exitCode }, null, 2)}\n`);
}

export function reportError(thrown: unknown, ctx: CliContext, debug: boolean, json = false): number {
  const c = ctx.stderrColors;
  const error = storageError(thrown) ?? thrown;
  if (error instanceof ElexirionError) {
    ctx.stderr.write(`${c.red('error')}: ${error.message}\n`);
    if (error.hint) ctx.stderr.write(`${c.dim('hint')}: ${error.hint}\n`);
    if (debug && error.stack) ctx.stderr.write(`${error.stack}\n`);
    if (json) writeJsonError(ctx, jsonErrorOf(error), error.exitCode);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  const hint = 'this is a bug in Elexirion; run again with --debug for the stack trace';
  ctx.stderr.write(`${c.red('internal error')}: ${message}\n`);
  if (debug && error instanceof Error && error.stack) ctx.stderr.write(`${error.stack}\n`);
  else ctx.stderr.write(`${c.dim('hint')}: ${hint}\n`);
  if (json) writeJsonError(ctx, { error: `internal error: ${message}`, hint }, ExitCode.internal);
  return ExitCode.internal;
}

function jsonErrorOf(error: ElexirionError): JsonError {
  if (error instanceof ConfigError) {
    return {
      error: 'the pipeline or its inputs are invalid',
      hint: 'fix the problems listed in `diagnostics`',
      diagnostics: error.diagnostics,
    };
  }
  return { error: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) };
}
