// Whether an error means "the journal cannot be reached for now" — PostgreSQL restarting or failing
// over, the network cut — rather than anything about the job: a worker waits that out instead of
// spending the job's attempts (worker.ts) or failing a batch it follows (batch-fanout.ts).
import { causedBy } from '../errors.js';
import { isConnectionError } from '../journal/postgres-connection.js';

/** Looks along the error's chain of causes (a failed item commit wraps the store's error). */
export function journalAway(error: unknown): boolean {
  return causedBy(error, isConnectionError);
}
