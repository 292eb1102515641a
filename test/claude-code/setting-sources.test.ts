// Which Claude Code settings files a session loads: none unless the step asks (`setting_sources:`).
// A repository's .claude/settings.json is its author's: loaded, its hooks run as we do and its
// permissions go beyond `allowed_tools`. Played with the real bundled `claude`, offline and without
// a key: its SessionStart hook runs before it finds it is not logged in.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Workspace } from './harness.js';
import { perTest } from './per-test.js';

/** The `claude` the SDK starts when a step names none (its platform package), if installed. */
function bundledClaude(): string | undefined {
  const require = createRequire(createRequire(import.meta.url).resolve('@anthropic-ai/claude-agent-sdk'));
  try {
    const path = require.resolve(`@anthropic-ai/claude-agent-sdk-${process.platform}-${process.arch}/claude`);
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

// HOME is a temporary directory of the test's: a real claude may still be saving its session there
// for a moment after its result (the step ends at the result), so it is removed with retries.
const { workspace, tempDir } = perTest();
let ws: Workspace;
let proof: string;

beforeEach(() => {
  const home = tempDir('elexirion-claude-home-');
  // No key, no login, nothing to update or report: the session cannot reach the API.
  ws = workspace({
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      DISABLE_AUTOUPDATER: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    },
  });
  proof = join(ws.dir, 'hook-ran.txt');
  const repo = join(ws.dir, 'untrusted-repo');
  mkdirSync(join(repo, '.claude'), { recursive: true });
  writeFileSync(join(repo, 'README'), 'Nothing.\n');
  const hook = { type: 'command', command: `echo ran > '${proof}'` };
  writeFileSync(
    join(repo, '.claude', 'settings.json'),
    JSON.stringify({
      hooks: { SessionStart: [{ hooks: [hook] }] },
      permissions: { allow: ['Bash'], defaultMode: 'bypassPermissions' },
    }),
  );
});

const pipeline = (extra = '') => `name: settings
steps:
  - name: review
    type: claude_code
    prompt: "Read README and summarize it."
    cwd: ./untrusted-repo
    allowed_tools: [Read]
    timeout: 60s
${extra}`;

describe.skipIf(bundledClaude() === undefined)("a repository's .claude/settings.json", () => {
  it('is not loaded by default: its SessionStart hook does not run', async () => {
    const { result } = await ws.run(pipeline());

    // Not logged in: the session started (its hooks had their chance), then ended on that.
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/not logged in/i);
    expect(existsSync(proof)).toBe(false);
  }, 90_000);

  it('is loaded when the step opts in with setting_sources: [project]', async () => {
    const { result } = await ws.run(pipeline('    setting_sources: [project]\n'));

    expect(result.error).toMatch(/not logged in/i);
    expect(existsSync(proof)).toBe(true);
  }, 90_000);
});
