// A key the API refuses (HTTP 401): Claude Code retries it — a refreshed login could pass — ten
// times with a growing backoff, about three minutes in all, and says nothing of it but `api_retry`
// messages. The step waited all that time, or timed out saying only that: a wrong key looked like a
// slow task. Once the refusal has outlived a refresh, the session is stopped and the step says why.
import type { SDKAssistantMessageError } from '@anthropic-ai/claude-agent-sdk';
import { describe, expect, it } from 'vitest';
import { ApiRetryWatch } from '../../src/providers/claude-code/api-retries.js';
import { ClaudeCodeAuthError } from '../../src/providers/claude-code/errors.js';
import { isAlive, PASS_FAKE_ENV, SCRIPTED_CLAUDE, waitFor } from './harness.js';
import { useWorkspace } from './per-test.js';

const { ws } = useWorkspace();

describe('a claude_code session whose key the API refuses', () => {
  it('fails the step at once, saying so, and ends the process', async () => {
    // The fake's ten retries take 5 s: past the step's timeout.
    const { result } = await ws.run(`name: refused
steps:
  - name: fix
    type: claude_code
    executable: ${SCRIPTED_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "fix it [auth:fail]"
    timeout: 4s
`);

    expect(result.status).toBe('failed');
    expect(result.error).not.toContain('timed out');
    expect(result.error).toContain(
      'the Claude Code session could not authenticate: the API refused it (HTTP 401, authentication_failed) 3 times in a row',
    );
    const log = ws.fakeLog();
    expect(log.filter((e) => (e.event as string) === 'retry')).toHaveLength(3);
    const pid = log.find((e) => e.event === 'start')?.pid as number;
    await waitFor(() => (isAlive(pid) ? undefined : true));
  });
});

describe('ApiRetryWatch', () => {
  const retry = (attempt: number, error: SDKAssistantMessageError, status: number | null) =>
    ({ type: 'system', subtype: 'api_retry', attempt, max_retries: 10, error, error_status: status }) as const;

  it('gives up on the third refusal in a row, not before: a refreshed login may pass the second', () => {
    const watch = new ApiRetryWatch();
    expect(watch.see(retry(1, 'authentication_failed', 401))).toBeUndefined();
    expect(watch.see(retry(2, 'authentication_failed', 401))).toBeUndefined();
    const error = watch.see(retry(3, 'authentication_failed', 401));
    expect(error).toBeInstanceOf(ClaudeCodeAuthError);
    expect(error?.retryable).toBe(false);
    expect(error?.hint).toContain('ANTHROPIC_API_KEY');
  });

  it('waits while the API is only busy or unreachable, and counts refusals only in a row', () => {
    const watch = new ApiRetryWatch();
    for (let attempt = 1; attempt <= 5; attempt++) expect(watch.see(retry(attempt, 'overloaded', 529))).toBeUndefined();
    expect(watch.see(retry(6, 'authentication_failed', 401))).toBeUndefined();
    expect(watch.see(retry(7, 'unknown', null))).toBeUndefined();
    expect(watch.see(retry(8, 'authentication_failed', 401))).toBeUndefined();
    expect(watch.see(retry(9, 'authentication_failed', 401))).toBeUndefined();
    expect(watch.see(retry(10, 'authentication_failed', 401))).toBeInstanceOf(ClaudeCodeAuthError);
  });
});
