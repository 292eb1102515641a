// A file journal's waiting writes applied to its tables on a thread of their own (write-behind.ts
// hands them over), so that the event loop goes on with the runs meanwhile. Applying is SQLite work
// (binding, B-tree inserts, the commit): on a 2-core machine it was ~40 µs of a batch item's ~130 µs
// on the event loop (bench/README.md, thirteenth round).
//
// One thread per process, started by the first store that needs it and kept (idle, unref'd) once
// started: a store opened for a single short run, as a benchmark's round, finds it warm. Each store
// has its lane — its own connection in the thread, a port, a shared cell.
//
// The store keeps every batch it handed over until the thread says it is in the tables. It needs it
// back when the thread fails (the event loop's own path applies it, with the handling it always
// had: one by one, a write the tables refuse passed over, a busy database retried), and before any
// read it waits — synchronously, on the lane's cell — for the batch in the thread's hands: a read
// sees every write that has resolved, and the writes reach the tables in log order.
//
// Exactly once is the log marks' (apply-past-marks.ts): whoever applies a log's writes moves its
// mark in the same transaction, so a batch taken back from a stalled thread cannot be applied twice.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { WaitingWrites } from './apply-past-marks.js';
import { type ApplyReply, BUSY, type LaneOpening } from './apply-thread-protocol.js';

/**
 * How long a read waits for the thread's batch before taking it back. The thread waits at most 5 s
 * for a lock another process holds (its busy_timeout), then answers; this is for a thread that
 * cannot answer at all.
 */
const STALLED_AFTER_MS = 30_000;
/** How long a closing store waits for the thread to close its connection (it only has to close it). */
const CLOSE_WAIT_MS = 5_000;

export interface ApplyThreadOptions {
  /** The journal database file. */
  database: string;
  synchronous: LaneOpening['synchronous'];
}

/** A store's way to the apply thread. */
export class ApplyLane {
  private port?: MessagePort;
  private readonly state = new Int32Array(new SharedArrayBuffer(4));
  private ready = false;
  /** Given up: the thread did not start, failed, or the lane closed. Batches stay on the event loop. */
  private ended = false;
  /** The batch in the thread's hands. */
  private batch?: WaitingWrites;

  constructor(
    private readonly options: ApplyThreadOptions,
    /** A batch's end: `failure` undefined when it is in the tables, else it comes back to be applied. */
    private readonly done: (batch: WaitingWrites, failure?: Error) => void,
  ) {}

  /** Whether a batch can be handed over now: the lane open and ready, no batch in the thread's hands. */
  get idle(): boolean {
    return !this.ended && this.ready && this.batch === undefined;
  }

  get busy(): boolean {
    return this.batch !== undefined;
  }

  /** Hands `batch` over; only when `idle`. */
  apply(batch: WaitingWrites): void {
    this.batch = batch;
    Atomics.store(this.state, 0, BUSY);
    this.port?.postMessage(batch);
  }

  /** Waits for the batch in the thread's hands to be done, and reports it (`done`) before returning. */
  settle(): void {
    if (this.batch === undefined) return;
    if (!this.waitWhileBusy(STALLED_AFTER_MS)) {
      this.stop(new Error(`the journal's apply thread did not answer in ${STALLED_AFTER_MS / 1000} s`));
      return;
    }
    // The reply was queued before the cell said IDLE (apply-worker.ts).
    for (let m = this.receive(); m !== undefined; m = this.receive()) this.handle(m);
  }

  /**
   * No more batches (one in the thread's hands settled first). A ready lane's connection is closed
   * before this returns, so that the store's own, closed next, is the journal's last: SQLite
   * checkpoints the WAL into the database and removes it then, as with no thread. A lane still
   * opening is not waited for (a run shorter than the thread's start): it closes when it opens.
   */
  close(): void {
    this.settle();
    if (this.ended) return;
    this.ended = true;
    lanes.delete(this);
    if (!this.port) return;
    Atomics.store(this.state, 0, BUSY);
    this.port.postMessage('close'); // the thread closes the port once it has closed its connection
    if (this.ready) this.waitWhileBusy(CLOSE_WAIT_MS);
  }

  /** Blocks while the cell says BUSY, at most `ms`; false if it still does. */
  private waitWhileBusy(ms: number): boolean {
    const deadline = performance.now() + ms;
    while (Atomics.load(this.state, 0) === BUSY) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.state, 0, BUSY, left);
    }
    return true;
  }

  /** Given up (the lane, or the whole thread): the batch in its hands comes back to the event loop. */
  stop(failure?: Error): void {
    if (!this.ended) {
      this.ended = true;
      lanes.delete(this);
      this.port?.close();
    }
    const batch = this.batch;
    this.batch = undefined;
    if (batch !== undefined) this.done(batch, failure ?? new Error("the journal's apply thread ended"));
  }

  /** Opens the lane (once): ready a moment later, the thread started first if it is not yet. */
  open(): void {
    if (this.port || this.ended) return;
    const worker = applyWorker();
    if (!worker) {
      this.ended = true;
      return;
    }
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.port.on('message', (m: ApplyReply) => this.handle(m));
    this.port.unref(); // everything handed over is in the log too: no reason to keep a process alive
    lanes.add(this);
    const opening: LaneOpening = { ...this.options, state: this.state, port: channel.port2 };
    worker.postMessage(opening, [channel.port2]);
  }

  private receive(): ApplyReply | undefined {
    return this.port ? (receiveMessageOnPort(this.port)?.message as ApplyReply | undefined) : undefined;
  }

  private handle(message: ApplyReply): void {
    if ('ready' in message) {
      if (message.ready) this.ready = true;
      else this.stop();
      return;
    }
    const batch = this.batch;
    if (batch === undefined) return; // taken back from a thread that answered too late
    this.batch = undefined;
    this.done(batch, message.applied ? undefined : Object.assign(new Error(message.message), { code: message.code }));
  }
}

/** Open lanes: told when the thread ends. */
const lanes = new Set<ApplyLane>();
let worker: Worker | undefined;
/** The thread could not start, or ended: none again in this process. */
let unavailable = false;

function applyWorker(): Worker | undefined {
  if (worker || unavailable) return worker;
  try {
    worker = spawnApplyWorker();
  } catch (error) {
    unavailable = true;
    process.emitWarning(
      `the journal's apply thread did not start: ${(error as Error).message}`,
      'ElexirionJournalWarning',
    );
    return undefined;
  }
  const ended = (failure: Error) => {
    unavailable = true;
    worker = undefined;
    for (const lane of [...lanes]) lane.stop(failure);
  };
  worker.on('error', ended);
  worker.on('exit', () => ended(new Error("the journal's apply thread exited")));
  worker.unref(); // idle, it keeps no process alive
  return worker;
}

/**
 * The compiled worker beside this file; from the TypeScript sources (the test suite runs them), the
 * same file through tsx.
 */
function spawnApplyWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./apply-worker.js', here));
  // tsx's ESM entry (its exports map puts it beside the CommonJS one, which is what require finds).
  const tsx = pathToFileURL(
    createRequire(here)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const entry = new URL('./apply-worker.ts', here).href;
  const code = `import(${JSON.stringify(tsx)}).then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(here)}))`;
  return new Worker(code, { eval: true });
}
