// A full disk or a journal this user may not write, met deep in SQLite or the file system, is the
// operator's to fix: exit 69 with what to do, not exit 70 "a bug in Elexirion".
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createCliContext } from '../../src/cli/context.js';
import { reportError } from '../../src/cli/main.js';
import { ExitCode } from '../../src/errors.js';

function report(error: unknown): { code: number; stderr: string } {
  let stderr = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      stderr += String(chunk);
      done();
    },
  });
  const ctx = createCliContext({ stderr: sink, stdout: sink, env: { NO_COLOR: '1' } });
  return { code: reportError(error, ctx, false), stderr };
}

const sqliteError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('storage errors', () => {
  it('a full disk: exit 69, and the hint says how the run goes on', () => {
    const { code, stderr } = report(sqliteError('SQLITE_FULL', 'database or disk is full'));
    expect(code).toBe(ExitCode.unavailable);
    expect(stderr).toMatch(/journal could not be written or read: database or disk is full \(SQLITE_FULL\)/);
    expect(stderr).toMatch(/free some disk space.*elexirion resume/);
    expect(stderr).not.toMatch(/bug in Elexirion/);
  });

  it('a read-only journal, an I/O error, ENOSPC from the log: exit 69', () => {
    for (const code of ['SQLITE_READONLY', 'SQLITE_READONLY_DBMOVED', 'SQLITE_IOERR_WRITE', 'ENOSPC', 'EROFS']) {
      expect(report(sqliteError(code, 'no')).code, code).toBe(ExitCode.unavailable);
    }
  });

  it('anything else is still an internal error', () => {
    expect(report(new Error('boom')).code).toBe(ExitCode.internal);
    expect(report(sqliteError('SQLITE_CONSTRAINT_UNIQUE', 'x')).code).toBe(ExitCode.internal);
    expect(report(sqliteError('EACCES', 'x')).code).toBe(ExitCode.internal);
  });
});

describe('storage errors over HTTP', () => {
  it('answer 503 with the same sentence, not 500', async () => {
    const { toErrorResponse } = await import('../../src/server/http-error.js');
    const full = toErrorResponse(sqliteError('SQLITE_FULL', 'database or disk is full'));
    expect(full.status).toBe(503);
    expect(full.body.error).toMatch(/journal could not be written or read/);
    expect(toErrorResponse(new Error('boom')).status).toBe(500);
  });
});
