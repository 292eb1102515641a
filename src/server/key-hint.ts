// A provider key the server lacks, as an HTTP caller is told of it. The engine's hint speaks to
// someone at the server's shell ("export X=… before running, or run with --mock"); the caller can
// neither export into the server's environment nor pass a flag, so the hint names what it can do.
import { ElexirionError, ExitCode } from '../errors.js';
import { HttpError } from './http-error.js';

const SHELL_HINT = /export (.+?) before running, or run with --mock to use no provider at all/g;

/** `error` with its missing-key hint reworded for HTTP (`instead`: what the caller may do instead); else as it is. */
export function httpKeyHint(error: unknown, instead?: string): unknown {
  if (!(error instanceof ElexirionError) || error.exitCode !== ExitCode.invalidInput) return error;
  const { hint } = error;
  if (hint === undefined || !hint.match(SHELL_HINT)) return error;
  const reworded = hint.replace(
    SHELL_HINT,
    (_all, variables: string) =>
      `the server's environment lacks it: ask its operator to set ${variables}${instead ? `, or ${instead}` : ''}`,
  );
  return new HttpError(400, error.message, reworded);
}
