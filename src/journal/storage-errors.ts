// Errors of the machine, not of Elexirion: a full disk, a journal file or directory this user may
// not write, a failing device. Raised from deep in SQLite or the file system — often late, when the
// journal applies or closes — they are the operator's to fix, and say so (exit 69), instead of
// reading as a bug (exit 70).
import { ElexirionError, ExitCode } from '../errors.js';

const SQLITE_STORAGE = /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|PERM|NOTADB|CORRUPT)/;
// Not EACCES or EPERM: those come from any file (a pipeline, a tool), not the journal's alone.
const FS_STORAGE = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO']);

/** The error as a journal-unavailable one when the machine's storage caused it; else undefined. */
export function storageError(error: unknown): ElexirionError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !(SQLITE_STORAGE.test(code) || FS_STORAGE.has(code))) return undefined;
  const message = error instanceof Error ? error.message : String(error);
  const full = code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT';
  return new ElexirionError(`the journal could not be written or read: ${message} (${code})`, {
    exitCode: ExitCode.unavailable,
    hint: full
      ? 'free some disk space, then `elexirion resume RUN_ID` continues from what was journaled'
      : 'check that this user may read and write the journal database and the directory beside it (--db, ELEXIRION_DB)',
    cause: error,
  });
}
