// An append-only file of JSON lines: the SQLite journal's write-ahead log (see write-behind.ts).
// One `write(2)` per record puts it in the OS page cache before the call returns — what a SQLite
// commit in WAL mode with synchronous=NORMAL guarantees too (it survives a killed process, not a
// power cut; `fsync: true` buys that) — for one system call instead of a transaction's dozen
// (locks, frame headers, pages, the WAL index).
//
// A record is complete once its newline is in the file: JSON escapes every newline inside a value,
// and the newline is the last byte of its write. A process killed in the middle of a write leaves at
// most a torn last line, which readers ignore.
import { closeSync, fchmodSync, fdatasyncSync, openSync, readSync, writeSync } from 'node:fs';

export class AppendLog {
  private fd: number | undefined;
  /** Bytes in the file: the offset just past the last record. */
  private end = 0;
  /** Why the file takes no more records (an append failed). */
  private broken: unknown;

  constructor(
    readonly path: string,
    private readonly fsync = false,
    /** The file's permissions (the journal database's: the log holds what its tables will). */
    mode = 0o600,
  ) {
    // 'wx': the file must be new (names are unique per process), so `end` counts from 0.
    this.fd = openSync(path, 'wx', mode);
    // Exactly `mode`, whatever the umask took from it, as SQLite gives its -wal file: a journal
    // shared by a group (0660) must leave logs its other users can read as they recover them. A
    // file system that keeps no modes (SQLite ignores the failure too) still takes the log.
    try {
      fchmodSync(this.fd, mode);
    } catch {
      // As made, under the umask.
    }
  }

  get size(): number {
    return this.end;
  }

  /** Appends one record, given as its JSON text; returns the offset just past it. */
  append(json: string): number {
    const line = `${json}\n`;
    this.write((fd, at) => {
      const written = writeSync(fd, line, at);
      const length = Buffer.byteLength(line);
      // A short write (a full disk, a signal): finish it from a buffer.
      if (written < length) writeAll(fd, Buffer.from(line).subarray(written), at + written);
      return length;
    });
    return this.end;
  }

  /** Appends records (their JSON texts) in one write; returns the offset just past each. */
  appendAll(jsons: string[]): number[] {
    const ends: number[] = [];
    let end = this.end;
    for (const json of jsons) {
      end += Buffer.byteLength(json) + 1;
      ends.push(end);
    }
    const length = end - this.end;
    this.write((fd, at) => {
      // The text itself, not a Buffer made of it: Node encodes it outside the JS heap.
      const text = `${jsons.join('\n')}\n`;
      const written = writeSync(fd, text, at);
      if (written < length) writeAll(fd, Buffer.from(text).subarray(written), at + written);
      return length;
    });
    return ends;
  }

  /**
   * Runs one append. One that fails (a full disk, a failed fsync) leaves the tail in doubt: the
   * log takes nothing more (write-behind.ts starts another), so no offset is ever used twice.
   */
  private write(append: (fd: number, at: number) => number): void {
    const fd = this.fd;
    if (fd === undefined) throw new Error(`the journal log ${this.path} is closed`);
    if (this.broken !== undefined) throw this.broken;
    try {
      const length = append(fd, this.end);
      if (this.fsync) fdatasyncSync(fd);
      this.end += length;
    } catch (error) {
      this.broken = error;
      throw error;
    }
  }

  /** Closes the file (write-behind.ts removes it once the tables hold all of it). */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

function writeAll(fd: number, bytes: Buffer, at: number): void {
  let offset = 0;
  while (offset < bytes.length) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset, at + offset);
    // A file system that takes nothing and says no error (some FUSE ones) must not spin forever.
    if (written === 0) throw Object.assign(new Error('the journal log took no bytes (EIO)'), { code: 'EIO' });
    offset += written;
  }
}

export interface LogRecord {
  record: unknown;
  /** Offset just past this record. */
  end: number;
}

export interface LogContents {
  records: LogRecord[];
  /**
   * A complete line (newline-terminated) that is not a record: the file was damaged (a machine's
   * crash without fsync, an edit). Nothing from it on is read. A torn last line is not damage.
   */
  damaged: boolean;
}

/** The complete records of the log at `path` from byte `from` on (a torn last line is left out). */
export function readLog(path: string, from: number): LogContents {
  const fd = openSync(path, 'r');
  const chunks: Buffer[] = [];
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    let position = from;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, position);
      if (n === 0) break;
      chunks.push(Buffer.from(chunk.subarray(0, n)));
      position += n;
    }
  } finally {
    closeSync(fd);
  }
  const bytes = Buffer.concat(chunks);
  const records: LogRecord[] = [];
  let start = 0;
  for (;;) {
    const newline = bytes.indexOf(10, start);
    if (newline === -1) return { records, damaged: false };
    try {
      records.push({ record: JSON.parse(bytes.toString('utf8', start, newline)), end: from + newline + 1 });
    } catch {
      return { records, damaged: true };
    }
    start = newline + 1;
  }
}
