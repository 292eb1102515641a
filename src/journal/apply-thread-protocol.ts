// What a journal's store and the apply thread (apply-thread.ts, apply-worker.ts) say to each other.
import type { MessagePort } from 'node:worker_threads';

/** A lane's shared cell: whether a batch (or the lane's closing) is in the thread's hands. */
export const IDLE = 0;
export const BUSY = 1;
/** The thread's connection to the journal is closed. */
export const CLOSED = 2;

/** A store's lane to the thread, opened once: its journal, and where batches and replies go. */
export interface LaneOpening {
  /** The journal database file. */
  database: string;
  /** Its `synchronous` setting, as the store's own connection has it. */
  synchronous: 'NORMAL' | 'FULL';
  /** One Int32 cell: IDLE or BUSY. */
  state: Int32Array;
  /** Batches come in on it (and 'close'); replies go out. */
  port: MessagePort;
}

export type ApplyReply =
  /** The lane is open: batches may come (`ready: false`: the journal could not be opened there). */
  | { ready: true }
  | { ready: false; message: string }
  /** A batch done: all of it in the tables, or none of it (its transaction rolled back). */
  | { applied: true }
  | { applied: false; message: string; code?: string };
