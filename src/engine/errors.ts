import { ElexirionError, ExitCode, UsageError } from '../errors.js';

/** A step failed and its policy (on_error, fallback) did not absorb it: the run fails. */
export class StepFailedError extends ElexirionError {
  readonly step: string;
  constructor(step: string, cause: unknown) {
    super(`step "${step}" failed: ${messageOf(cause)}`, { exitCode: ExitCode.runFailed, cause });
    this.step = step;
  }
}

/** The run was stopped from outside; it is resumable. */
export class RunInterruptedError extends ElexirionError {
  readonly status: 'interrupted' | 'cancelled';
  constructor(status: 'interrupted' | 'cancelled') {
    super(status === 'interrupted' ? 'the run was interrupted' : 'the run was cancelled', {
      exitCode: ExitCode.interrupted,
      hint: status === 'interrupted' ? 'continue it with `elexirion resume RUN_ID`' : undefined,
    });
    this.status = status;
  }
}

/**
 * A fresh error standing for `reason`, to stop what runs inside a step — a parallel group's
 * sub-steps, a nested pipeline's steps, a batch's items — when the step itself is stopped (its timeout, the run's
 * stop). A stopped call attaches its bill to the reason it was stopped for; on the step's own error,
 * those bills (journaled already on the inner steps' rows) would ride into the step's failed row and
 * be counted twice. An interruption stays an interruption of the same kind.
 */
export function innerStop(reason: unknown): Error {
  if (reason instanceof RunInterruptedError) return new RunInterruptedError(reason.status);
  return new InnerStopError(reason);
}

class InnerStopError extends ElexirionError {
  constructor(readonly reason: unknown) {
    super(messageOf(reason));
  }
}

/** The reason an innerStop stands for (an interruption is its own). */
export function stopReasonOf(stop: unknown): unknown {
  return stop instanceof InnerStopError ? stop.reason : stop;
}

/**
 * The journal could not be written. Not the step's failure — its policy (fallback, on_error) must
 * not absorb it — but the run's crash, which the supervisor answers by restarting from the journal.
 */
export class JournalError extends ElexirionError {
  constructor(cause: unknown) {
    super(`the journal could not be written: ${messageOf(cause)}`, { exitCode: ExitCode.unavailable, cause });
  }
}

/** A step exceeded its timeout. */
export class StepTimeoutError extends ElexirionError {
  /** The key of the step that timed out: a step stopped by its group's timeout sees that of the group. */
  readonly step: string;
  constructor(step: string, timeoutMs: number) {
    super(`step "${step}" timed out after ${timeoutMs} ms`, {
      hint: 'raise `timeout:` on the step (or `defaults.timeout`), e.g. `timeout: 10m`',
    });
    this.name = 'StepTimeoutError';
    this.step = step;
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A resume refused because the run's owner still runs it: nothing is wrong with the run, it is just
 * not this caller's (a cluster worker waits and asks again instead of failing the run's job).
 */
export class RunStillRunningError extends UsageError {
  constructor(
    runId: string,
    owner: string,
    message = `run ${runId} is still running (${owner})`,
    hint = 'wait for it, or stop that process first',
  ) {
    super(message, hint);
  }
}

/**
 * A resume refused because the run's last execution in this process, though its final status is
 * journaled, is still ending (writing its last events): a moment later the resume goes through.
 */
export class RunStillEndingError extends RunStillRunningError {
  constructor(runId: string) {
    super(
      runId,
      'this process',
      `run ${runId} is still ending its last execution in this process`,
      'send the resume again in a moment',
    );
  }
}
