// Whether an error means "the journal cannot be reached for now" — PostgreSQL restarting or failing
// over, the network cut — rather than anything about the job: a worker waits that out instead of
// spending the job's attempts (worker.ts) or failing a batch it follows (batch-fanout.ts).
import { isConnectionError } from '../journal/postgres-connection.js';

/** Looks along the error's chain of causes (a failed item commit wraps the store's error). */
export function journalAway(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (isConnectionError(e)) return true;
  }
  return false;
}
