// A session that fails (here: out of max_turns) was a real, paid Claude Code session with an id and
// turns: its step record keeps the bill and the session's id and turns, so the journal says which
// session to inspect (or `claude --resume`). It kept the bill only.
import { expect, it } from 'vitest';
import { FAKE_CLAUDE, PASS_FAKE_ENV } from './harness.js';
import { useWorkspace } from './per-test.js';

const { ws } = useWorkspace();

it('journals the session id and turns of a failed session', async () => {
  const { result, steps } = await ws.run(`name: cc
steps:
  - name: fix
    type: claude_code
    executable: ${FAKE_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "fix it [turns:5]"
    max_turns: 2
`);
  expect(result.status).toBe('failed');
  expect(steps[0]?.costUsd).toBeGreaterThan(0); // the bill is kept…
  expect(steps[0]?.details).toMatchObject({ session_id: expect.any(String), num_turns: 2 }); // …the session is not
});
