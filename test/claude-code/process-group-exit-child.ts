// An Elexirion process that exits abruptly (process.exit, as a second Ctrl-C does) while a
// claude_code session is under way: its `claude` (test/claude-code/fixtures/claude-with-tool.mjs)
// has started a tool's command. Or, given a signal (SIGINT, SIGTERM), a library script without
// handlers of its own that the signal ends (Ctrl-C, `kill`).
// Usage: node --import tsx process-group-exit-child.ts EXECUTABLE LOG CWD [SIGNAL]
import { readFileSync } from 'node:fs';
import { runClaudeCodeSession } from '../../src/providers/claude-code/session.js';

const [executable, log, cwd, signal] = process.argv.slice(2) as [string, string, string, NodeJS.Signals?];
const env = { PATH: process.env.PATH ?? '', FAKE_CLAUDE_LOG: log };
runClaudeCodeSession({ prompt: 'run the tests', cwd, executable, env }, new AbortController().signal).catch(() => {});
const started = setInterval(() => {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return;
  }
  if (!text.includes('"event":"tool"')) return;
  clearInterval(started);
  if (signal) process.kill(process.pid, signal);
  else process.exit(0);
}, 25);
