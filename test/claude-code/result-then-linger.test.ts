// A session is over at its result message: what Claude Code does after it (exit, or — as it
// sometimes does — hang with stdout open, anthropics/claude-code#25629) must not undo it. Waiting
// for the process to exit made a finished, paid session time out: the step failed, its answer was
// lost, and its bill was our estimate instead of Claude Code's total.
import { expect, it } from 'vitest';
import { isAlive, PASS_FAKE_ENV, SCRIPTED_CLAUDE, waitFor } from './harness.js';
import { useWorkspace } from './per-test.js';

const { ws } = useWorkspace();

it('a session whose claude lingers after its result succeeds with that result, and its process is ended', async () => {
  const { result, steps } = await ws.run(`name: lingering
steps:
  - name: fix
    type: claude_code
    executable: ${SCRIPTED_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "fix it [then:linger]"
    timeout: 2s
`);

  expect(result.status, result.error).toBe('succeeded');
  expect(steps[0]?.output).toBe('Done.');
  // Claude Code's own total, not the price table's estimate of the calls it streamed.
  expect(steps[0]?.costUsd).toBe(0.0099);
  expect(steps[0]?.usage).toEqual({ inputTokens: 2100, outputTokens: 220 });
  const pid = ws.fakeLog().find((e) => e.event === 'start')?.pid as number;
  await waitFor(() => (isAlive(pid) ? undefined : true));
});
