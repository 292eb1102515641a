// What a command needs from the outside world, injectable so that tests run the CLI in-process.
import pc from 'picocolors';
import { createRedactor } from '../telemetry/redact.js';
import { redactingStream } from './redacting-stream.js';

type Colors = ReturnType<typeof pc.createColors>;

export interface CliContext {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** `columns`: a terminal's width (the live progress line is cut to it). */
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Colors for what is written to stdout: on when stdout is a terminal (NO_COLOR / FORCE_COLOR aside). */
  colors: Colors;
  /**
   * Colors for what is written to stderr (progress, errors, diagnostics): decided by stderr's own
   * terminal, so `run x.yaml 2> run.log` writes plain text to the log while stdout stays colored.
   */
  stderrColors: Colors;
}

/**
 * The context of a command; its stdout and stderr pass every write through the redactor of `env`
 * (redacting-stream.ts): no command prints a secret, whatever it prints.
 */
export function createCliContext(overrides: Partial<Omit<CliContext, 'colors' | 'stderrColors'>> = {}): CliContext {
  const env = overrides.env ?? process.env;
  const redact = createRedactor(env);
  const stdout = redactingStream(overrides.stdout ?? process.stdout, redact);
  const stderr = redactingStream(overrides.stderr ?? process.stderr, redact);
  return {
    stdout,
    stderr,
    env,
    cwd: overrides.cwd ?? process.cwd(),
    colors: pc.createColors(useColor(stdout, env)),
    stderrColors: pc.createColors(useColor(stderr, env)),
  };
}

/**
 * Whether to color what goes to `stream`: NO_COLOR (set, whatever its value) turns colors off;
 * else FORCE_COLOR decides when set; else whether the stream is a terminal.
 */
function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return !('NO_COLOR' in env) && (forceColor(env.FORCE_COLOR) ?? Boolean(stream.isTTY));
}

/**
 * FORCE_COLOR as the usual convention reads it (Node, chalk, supports-color): unset → follow the
 * terminal; `0` or `false` → off; anything else (`1`, `2`, `3`, `true`, empty) → on.
 */
function forceColor(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  return !(v === '0' || v === 'false');
}
