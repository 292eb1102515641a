// A crash of `claude` is reported with the end of its stderr (the last 2 KB are kept), within the
// 500 characters an error message may take. Cut to that from its start, the report kept the oldest
// lines of that tail and lost the last ones — the crash's cause — and began wherever the 2 KB began:
// in the middle of a secret, say, whose remaining part no redaction recognised.
import { expect, it, vi } from 'vitest';
import { spawnInOwnGroup } from '../../src/providers/claude-code/process-group.js';
import { PASS_FAKE_ENV, SCRIPTED_CLAUDE } from './harness.js';
import { useWorkspace } from './per-test.js';

const { ws } = useWorkspace();

it("reports a crash with the last lines of its stderr, and no part of a secret cut at the tail's start", async () => {
  const token = 'gw_live_0123456789abcdef';
  vi.stubEnv('ANTHROPIC_AUTH_TOKEN', token);
  const { result, steps } = await ws.run(`name: noisy-crash
steps:
  - name: fix
    type: claude_code
    executable: ${SCRIPTED_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "fix it [then:spew]"
`);

  expect(result.status).toBe('failed');
  for (const text of [result.error, steps[0]?.error]) {
    expect(text).toContain('Claude Code process exited with code 1');
    expect(text).toContain('scripted claude: fatal: the disk is full');
    expect(text).not.toContain(token.slice(8)); // what the 2 KB kept of the token
  }
  expect(steps[0]?.error?.length).toBeLessThanOrEqual(600);
});

it('keeps the end of stderr from a word’s start: a secret the 2 KB cut in half is left out whole', async () => {
  const token = 'gw_live_0123456789abcdef';
  // The last 2,048 characters begin 8 characters into the token.
  const rest = `${token.slice(8)} ${'x'.repeat(2048 - token.length + 8 - 1 - 5)} done`;
  const proc = spawnInOwnGroup({
    command: process.execPath,
    args: ['-e', `process.stderr.write(${JSON.stringify(`calling with ${token.slice(0, 8)}${rest}`)})`],
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '' },
    signal: new AbortController().signal,
  });
  await new Promise((resolve) => proc.once('exit', resolve));

  expect(proc.stderrTail()).toBe(`${'x'.repeat(2048 - token.length + 8 - 1 - 5)} done`);
});
