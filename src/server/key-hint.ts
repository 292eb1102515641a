// A provider key the server lacks, as an HTTP caller is told of it. The engine's hint speaks to
// someone at the server's shell ("export X=… before running, or run with --mock"); the caller can
// neither export into the server's environment nor pass a flag, so the error is asked for the
// hint worded for an HTTP caller (settings.ts builds both wordings from the variables, not text).
import { MissingKeyError } from '../providers/settings.js';
import { HttpError } from './http-error.js';

/** `error` with its missing-key hint worded for an HTTP caller (a 400); any other error as it is. */
export function httpKeyHint(error: unknown): unknown {
  if (!(error instanceof MissingKeyError)) return error;
  return new HttpError(400, error.message, error.hintFor('http'));
}
