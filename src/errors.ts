// Typed errors. Each one knows the exit code the CLI gives it, so that `main` never has to guess
// and never prints a stack trace unless `--debug` asks for one.

export const ExitCode = {
  ok: 0,
  runFailed: 1,
  invalidInput: 2,
  /** The run was stopped from outside (Ctrl-C, SIGTERM); it is resumable. */
  interrupted: 130,
  /** A bug in Elexirion itself: the only case where a stack trace is useful. */
  internal: 70,
  /** The journal or another service could not be reached. */
  unavailable: 69,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class ElexirionError extends Error {
  readonly exitCode: ExitCode;
  /** What the user can do about it, printed after the message. */
  readonly hint?: string;
  constructor(message: string, options: { exitCode?: ExitCode; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? ExitCode.runFailed;
    if (options.hint !== undefined) this.hint = options.hint;
  }
}

/** One problem found in a pipeline file, located as precisely as the source allows. */
export interface Diagnostic {
  file: string;
  /** 1-based; 0 when no place in the file can be named (e.g. a run's document as the journal keeps it). */
  line: number;
  col: number;
  /** The key path, e.g. `steps[2].retry.max_attempts`. */
  path: string;
  message: string;
  hint?: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
  const at = d.path ? ` at ${d.path}` : '';
  return `${where}: ${d.message}${at}${d.hint ? `\n  hint: ${d.hint}` : ''}`;
}

/** A pipeline (or its inputs) is invalid: nothing was run, nothing was spent. */
export class ConfigError extends ElexirionError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[], message?: string) {
    super(message ?? diagnostics.map(formatDiagnostic).join('\n'), { exitCode: ExitCode.invalidInput });
    this.diagnostics = diagnostics;
  }
}

/** Bad command-line or API usage (unknown run id, malformed --input …). */
export class UsageError extends ElexirionError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.invalidInput, ...(hint === undefined ? {} : { hint }) });
  }
}

/**
 * Whether `error`, or an error along its chain of causes, passes `test`: a failure is often another
 * wrapped (a step's commit wraps the store's error; a group's failure, its sub-step's). Bounded: a
 * chain is short, but nothing stops one from pointing back at itself.
 */
export function causedBy(error: unknown, test: (e: Error) => boolean, maxDepth = 8): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < maxDepth; e = e.cause, depth++) {
    if (test(e)) return true;
  }
  return false;
}
