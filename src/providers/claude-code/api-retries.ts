// What Claude Code's `api_retry` messages say of a session's chances. Claude Code retries a call the
// API refused for its credentials (HTTP 401: a refreshed login or key helper could pass) as it
// retries an overloaded one — ten times, with a backoff that grows to half a minute: about three
// minutes of silence before an error result. A step waited all that time, or timed out saying only
// that. A refusal that outlives a refresh will not pass by waiting: the session is stopped then.
import type { SDKAPIRetryMessage } from '@anthropic-ai/claude-agent-sdk';
import { ClaudeCodeAuthError, type SpentSoFar } from './errors.js';

/** Refusals in a row after which waiting is hopeless: Claude Code refreshes a login after the first. */
export const REFUSALS_BEFORE_STOP = 3;

/** The errors of an account or its credentials: the API gives the same answer until someone acts. */
const REFUSALS: ReadonlySet<string> = new Set([
  'authentication_failed',
  'oauth_org_not_allowed',
  'account_on_hold',
  'verification_required',
  'billing_error',
  'cloud_credential_error',
]);

type RetryMessage = Pick<SDKAPIRetryMessage, 'attempt' | 'max_retries' | 'error' | 'error_status'>;

export class ApiRetryWatch {
  private refusals = 0;

  /** Reads one `api_retry` message: the error to stop the session with, once waiting is hopeless. */
  see(message: RetryMessage, spent?: SpentSoFar): ClaudeCodeAuthError | undefined {
    // Only refusals in a row count: a busy or unreachable API in between is another story.
    this.refusals = REFUSALS.has(message.error) ? this.refusals + 1 : 0;
    if (this.refusals < REFUSALS_BEFORE_STOP) return undefined;
    const status = message.error_status === null ? '' : `HTTP ${message.error_status}, `;
    return new ClaudeCodeAuthError(
      `the Claude Code session could not authenticate: the API refused it (${status}${message.error}) ` +
        `${this.refusals} times in a row; stopped rather than wait for Claude Code's ` +
        `${Math.max(0, message.max_retries - message.attempt)} more retries`,
      spent,
    );
  }
}
