// The responses of the event streams of runs executed here. Those streams end with their runs —
// after writing the run's last events — so a shutdown that has stopped the runs waits for them
// (within its grace) before it closes the connections: cut earlier, a client would miss
// `pipeline.execution.stop`. A response counts until Node has handed its last bytes to the OS
// ('close'), not merely until the handler returns: the body still flows through a pipe after that.
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export class OpenStreams {
  private readonly open = new Set<ServerResponse>();
  private idle?: () => void;

  /** `response`: the Node response under the stream (absent when the app is called without a server). */
  add(response: ServerResponse | undefined): void {
    if (!response || response.closed) return;
    this.open.add(response);
    response.once('close', () => {
      this.open.delete(response);
      if (this.open.size === 0) this.idle?.();
    });
  }

  /** Resolves true once every stream has ended, or false after `timeoutMs`. */
  async ended(timeoutMs: number): Promise<boolean> {
    if (this.open.size === 0) return true;
    if (timeoutMs <= 0) return false;
    const timer = new AbortController();
    const idle = new Promise<true>((resolve) => {
      this.idle = () => resolve(true);
    });
    try {
      return await Promise.race([idle, sleep(timeoutMs, false as const, { signal: timer.signal }).catch(() => false)]);
    } finally {
      timer.abort(); // the timer must not keep the process alive once the streams have ended
      this.idle = undefined;
    }
  }
}
