// What a command needs from the outside world, injectable so that tests run the CLI in-process.
import pc from 'picocolors';

export interface CliContext {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** `columns`: a terminal's width (the live progress line is cut to it). */
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Colors that honour NO_COLOR / FORCE_COLOR and a non-TTY stdout. */
  colors: ReturnType<typeof pc.createColors>;
}

export function createCliContext(overrides: Partial<Omit<CliContext, 'colors'>> = {}): CliContext {
  const stdout = overrides.stdout ?? process.stdout;
  const env = overrides.env ?? process.env;
  const useColor =
    !('NO_COLOR' in env) && (forceColor(env.FORCE_COLOR) ?? Boolean((stdout as { isTTY?: boolean }).isTTY));
  return {
    stdout,
    stderr: overrides.stderr ?? process.stderr,
    env,
    cwd: overrides.cwd ?? process.cwd(),
    colors: pc.createColors(useColor),
  };
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
