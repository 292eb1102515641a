// The run supervisor: OTP's DynamicSupervisor with a one_for_one strategy. Each run is a child;
// a child that crashes (an error that is not the run's own outcome — a journal write that failed,
// a bug) is restarted from durable state, at most `maxRestarts` times within `windowMs`; past
// that intensity the run is given up with its reason. One child's crash never touches another.
import { ElexirionError, ExitCode } from '../errors.js';
import { messageOf } from './errors.js';

export interface RestartIntensity {
  /** Restarts allowed within the window (OTP's `max_restarts`, default 3). */
  maxRestarts: number;
  /** The window in milliseconds (OTP's `max_seconds`, default 60 s). */
  windowMs: number;
  /** Pause before a restart, so a crash loop does not spin. */
  backoffMs: number;
}

export const DEFAULT_INTENSITY: RestartIntensity = { maxRestarts: 3, windowMs: 60_000, backoffMs: 50 };

export class RestartIntensityExceeded extends ElexirionError {
  constructor(child: string, restarts: number, windowMs: number, last: unknown) {
    super(
      `run ${child} crashed ${restarts + 1} times within ${Math.round(windowMs / 1000)} s; giving up: ${messageOf(last)}`,
      {
        exitCode: ExitCode.runFailed,
        hint: 'fix the cause, then `elexirion resume RUN_ID` continues from the journal',
        cause: last,
      },
    );
  }
}

export interface ChildSpec<T> {
  id: string;
  /** Starts (or restarts) the child; `attempt` counts from 0. Must rebuild its state from durable storage. */
  start(attempt: number): Promise<T>;
  /** Whether an error is worth a restart (default: every error). */
  restartable?(error: unknown): boolean;
  onRestart?(attempt: number, error: unknown): void;
}

export class RunSupervisor {
  private readonly intensity: RestartIntensity;
  /** Each child by id: the latest one started under that id. */
  private readonly children = new Map<string, Promise<unknown>>();
  /** Every child not yet ended (a child under an id that a later one took too). */
  private readonly running = new Set<Promise<unknown>>();

  constructor(intensity: Partial<RestartIntensity> = {}) {
    this.intensity = { ...DEFAULT_INTENSITY, ...intensity };
  }

  get activeCount(): number {
    return this.running.size;
  }

  isActive(id: string): boolean {
    return this.children.has(id);
  }

  /** Runs a child to completion under the restart policy. The promise settles with its outcome. */
  supervise<T>(spec: ChildSpec<T>): Promise<T> {
    const task: Promise<T> = this.loop(spec).finally(() => {
      this.running.delete(task);
      // Only its own entry: a child started under the same id while this one ended is not this one.
      if (this.children.get(spec.id) === task) this.children.delete(spec.id);
    });
    this.children.set(spec.id, task);
    this.running.add(task);
    return task;
  }

  /** Waits for every child, those started meanwhile too (drain before exit). */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async loop<T>(spec: ChildSpec<T>): Promise<T> {
    const restarts: number[] = [];
    for (let attempt = 0; ; attempt++) {
      try {
        return await spec.start(attempt);
      } catch (error) {
        if (spec.restartable && !spec.restartable(error)) throw error;
        const now = Date.now();
        while (restarts.length > 0 && now - (restarts[0] as number) > this.intensity.windowMs) restarts.shift();
        if (restarts.length >= this.intensity.maxRestarts) {
          throw new RestartIntensityExceeded(spec.id, restarts.length, this.intensity.windowMs, error);
        }
        restarts.push(now);
        spec.onRestart?.(attempt + 1, error);
        await new Promise((resolve) => setTimeout(resolve, this.intensity.backoffMs * restarts.length));
      }
    }
  }
}
