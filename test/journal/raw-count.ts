// A table's rows as another connection sees them, with no recovery of any log: what a journal's
// tables hold right now, whatever its store has only logged.
import Database from 'better-sqlite3';

export function count(path: string, table: string): number {
  const raw = new Database(path, { readonly: true });
  try {
    return (raw.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    raw.close();
  }
}
