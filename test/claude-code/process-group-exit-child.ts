// An Elexirion process that exits abruptly (process.exit, as a second Ctrl-C does) while a
// claude_code session is under way: its `claude` (test/claude-code/fixtures/claude-with-tool.mjs)
// has started a tool's command. Usage: node --import tsx process-group-exit-child.ts EXECUTABLE LOG CWD
import { readFileSync } from 'node:fs';
import { runClaudeCodeSession } from '../../src/providers/claude-code/session.js';

const [executable, log, cwd] = process.argv.slice(2) as [string, string, string];
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
  process.exit(0);
}, 25);
