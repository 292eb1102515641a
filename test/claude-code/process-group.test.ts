// A stopped claude_code session stops everything it started, not only `claude`: the commands its
// tools ran (here a `sh -c "exec sleep 600"` started by test/claude-code/fixtures/claude-with-tool.mjs,
// as the Bash tool would) are in its process group, and the group is what is signalled.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, waitFor } from './harness.js';
import { useWorkspace } from './per-test.js';

const TOOL_CLAUDE = fileURLToPath(new URL('./fixtures/claude-with-tool.mjs', import.meta.url));
const EXIT_CHILD = fileURLToPath(new URL('./process-group-exit-child.ts', import.meta.url));

const { ws } = useWorkspace();
const started: number[] = [];
// Registered after useWorkspace's hook, so it runs before the workspace is disposed.
afterEach(() => {
  for (const pid of started.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL'); // what a failure left
});

const pipeline = (prompt: string, fields = '') => `name: cc-tool
steps:
  - name: fix
    type: claude_code
    executable: ${TOOL_CLAUDE}
    pass_env: [FAKE_CLAUDE_LOG]
    prompt: "${prompt}"
${fields}`;

/** The pids of `claude` and of its tool's command, once the command is started. */
async function toolStarted(): Promise<{ claude: number; tool: number }> {
  const entry = await waitFor(() => ws.fakeLog().find((e) => (e.event as string) === 'tool'));
  const { pid: claude, childPid: tool } = entry as unknown as { pid: number; childPid: number };
  started.push(tool, claude);
  return { claude, tool };
}

const gone = (pid: number, timeoutMs = 10_000) => waitFor(() => (isAlive(pid) ? undefined : true), timeoutMs);

describe.skipIf(process.platform === 'win32')("a claude_code session's process group", () => {
  it('a cancelled run leaves no process of its session running', async () => {
    const handle = await ws.start(pipeline('run the tests'));
    const { claude, tool } = await toolStarted();
    handle.stop('cancelled');

    expect((await handle.result).status).toBe('cancelled');
    await gone(claude);
    await gone(tool);
  });

  it('a step timeout stops the commands of the session too', async () => {
    const { result } = await ws.run(pipeline('run the tests', '    timeout: 1s\n'));
    const { claude, tool } = await toolStarted();

    expect(result.status).toBe('failed');
    expect(result.error).toContain('timed out');
    await gone(claude);
    await gone(tool);
  });

  it('stops what is left when claude exits by itself once its stdin is closed', async () => {
    const handle = await ws.start(pipeline('run the tests [eof:exit]'));
    const { claude, tool } = await toolStarted();
    handle.stop('cancelled');

    expect((await handle.result).status).toBe('cancelled');
    await gone(claude);
    await gone(tool);
    // claude was not killed: it exited on its own, and only then was its command stopped
    expect(ws.fakeLog().some((e) => e.event === 'signal' && e.pid === claude)).toBe(false);
  });

  it('stops what a session that succeeded left running', async () => {
    const { result } = await ws.run(pipeline('run the tests [then:answer] [eof:exit]'));
    const { claude, tool } = await toolStarted();

    expect(result.status).toBe('succeeded');
    await gone(claude);
    await gone(tool);
  });

  it('kills with SIGKILL, after a grace, a command that ignores SIGTERM', async () => {
    const handle = await ws.start(pipeline('run the tests [tool:stubborn]'));
    const { claude, tool } = await toolStarted();
    handle.stop('cancelled');

    await handle.result;
    await gone(claude);
    expect(isAlive(tool)).toBe(true); // SIGTERM did not end it…
    await gone(tool, 15_000); // …SIGKILL did
  }, 30_000);

  it('an Elexirion process that exits mid-session takes the group with it', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', EXIT_CHILD, TOOL_CLAUDE, ws.log, ws.dir], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    const { claude, tool } = await toolStarted();

    expect(code).toBe(0);
    await gone(claude, 2_000);
    await gone(tool, 2_000);
  }, 30_000);

  // A library script with no signal handler of its own, ended by Ctrl-C or `kill`: detached, the
  // session's `claude` gets no Ctrl-C of its own, and a process a signal kills runs no exit hook.
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'stops every live group when %s ends the process',
    async (signal) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', EXIT_CHILD, TOOL_CLAUDE, ws.log, ws.dir, signal], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const ended = await new Promise<NodeJS.Signals | null>((resolve) =>
        proc.on('exit', (_code, sig) => resolve(sig)),
      );
      const { claude, tool } = await toolStarted();

      expect(ended).toBe(signal); // ended by the signal, as it would have been without us
      await gone(claude, 2_000);
      await gone(tool, 2_000);
    },
    30_000,
  );
});
