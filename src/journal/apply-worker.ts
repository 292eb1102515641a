// The apply thread's own code (apply-thread.ts): a connection to each journal whose writes it is
// handed, and one transaction per batch. It decides nothing: a write it cannot apply is reported
// back, and the event loop's own path (write-behind.ts) deals with it as it always did.
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { applyPastMarks, type WaitingWrites } from './apply-past-marks.js';
import { type ApplyReply, CLOSED, IDLE, type LaneOpening } from './apply-thread-protocol.js';
import { JournalLogs } from './journal-logs.js';
import { SqliteEventLog } from './sqlite-event-log.js';
import { SqliteWrites } from './sqlite-writes.js';

parentPort?.on('message', ({ database, synchronous, state, port }: LaneOpening) => {
  /** Tells the journal's store the batch is done; its reply is queued before the cell says so. */
  const reply = (message: ApplyReply): void => {
    port.postMessage(message);
    Atomics.store(state, 0, IDLE);
    Atomics.notify(state, 0);
  };
  let db: Database.Database;
  let apply: (batch: WaitingWrites) => void;
  try {
    db = new Database(database, { fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('foreign_keys = ON');
    const tables = new SqliteWrites(db, new SqliteEventLog(db));
    const logs = new JournalLogs(db);
    // BEGIN IMMEDIATE, as on the event loop: marks are read under the write lock.
    const transaction = db.transaction((batch: WaitingWrites) => applyPastMarks(batch, tables, logs));
    apply = (batch) => transaction.immediate(batch);
  } catch (error) {
    // Cannot open the journal: its store applies everything itself.
    port.postMessage({ ready: false, message: (error as Error).message } satisfies ApplyReply);
    port.close();
    return;
  }
  port.on('message', (message: WaitingWrites | 'close') => {
    if (message === 'close') {
      db.close();
      Atomics.store(state, 0, CLOSED);
      Atomics.notify(state, 0);
      port.close();
      return;
    }
    try {
      apply(message);
      reply({ applied: true });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      reply({ applied: false, message: (error as Error).message, ...(typeof code === 'string' ? { code } : {}) });
    }
  });
  port.postMessage({ ready: true } satisfies ApplyReply);
});
