// Which Claude Code executable a session starts: the step's `executable:`, else the environment's
// CLAUDE_CODE_EXECUTABLE, else the SDK's own resolution (its platform binary package).
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { ElexirionError, ExitCode } from '../../errors.js';

export const EXECUTABLE_ENV = 'CLAUDE_CODE_EXECUTABLE';

/**
 * The absolute path of the executable to start, or undefined to let the SDK find its own.
 * A path is taken relative to `baseDir` (the pipeline's directory), a bare name (`claude`) is
 * looked up on PATH. Absolute because the SDK spawns it from the session's cwd, where a
 * relative path would mean something else.
 */
export function resolveClaudeExecutable(
  fromStep: string | undefined,
  env: Record<string, string | undefined>,
  baseDir: string,
): string | undefined {
  if (fromStep !== undefined && fromStep !== '')
    return locate(fromStep, env, {
      baseDir,
      source: "the step's `executable:`",
      base: "the pipeline file's directory",
    });
  const fromEnv = env[EXECUTABLE_ENV];
  if (fromEnv !== undefined && fromEnv !== '')
    return locate(fromEnv, env, { baseDir: process.cwd(), source: EXECUTABLE_ENV, base: 'the working directory' });
  return undefined;
}

interface Origin {
  baseDir: string;
  /** Where the value came from, for the error message. */
  source: string;
  /** What a relative path is taken from, for the hint. */
  base: string;
}

function locate(value: string, env: Record<string, string | undefined>, { baseDir, source, base }: Origin): string {
  const isBareName = !value.includes('/') && !value.includes('\\');
  if (isBareName) {
    for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
      const candidate = join(dir, value);
      if (isExecutableFile(candidate)) return candidate;
    }
    throw new ElexirionError(`Claude Code executable "${value}" (from ${source}) was not found on PATH`, {
      exitCode: ExitCode.invalidInput,
      hint: 'give its full path, or install Claude Code: npm install -g @anthropic-ai/claude-code',
    });
  }
  const path = isAbsolute(value) ? value : resolve(baseDir, value);
  if (!isExecutableFile(path)) {
    throw new ElexirionError(`Claude Code executable ${path} (from ${source}) does not exist or is not executable`, {
      exitCode: ExitCode.invalidInput,
      hint: `check the path (a relative one is taken from ${base}) and its execute permission`,
    });
  }
  return path;
}

/**
 * The SDK runs a script with node itself (the endings it checks: not `.cjs`, which it starts as a
 * program): anything else must be executable.
 */
const SCRIPT = /\.(js|mjs|ts|tsx|jsx)$/;

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    if (!SCRIPT.test(path)) accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
