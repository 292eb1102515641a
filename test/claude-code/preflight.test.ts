// What is checked before a run with claude_code steps starts: the optional SDK and the executable.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { loadPipeline, loadPipelineFromString } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { ExitCode } from '../../src/errors.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { resolveClaudeExecutable } from '../../src/providers/claude-code/executable.js';
import { ClaudeAgentSdkMissingError, loadClaudeAgentSdk } from '../../src/providers/claude-code/load-sdk.js';
import { assertClaudeCodeReady, claudeCodeSteps } from '../../src/providers/claude-code/preflight.js';
import { FAKE_CLAUDE } from './harness.js';
import { perTest } from './per-test.js';

const notInstalled = () =>
  Promise.reject(
    Object.assign(new Error("Cannot find package '@anthropic-ai/claude-agent-sdk' imported from /app/x.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    }),
  );

const WITH_CLAUDE_CODE = `name: nested
steps:
  - name: group
    type: parallel
    steps:
      - { name: a, type: mock, prompt: "a" }
      - { name: b, type: claude_code, prompt: "b", executable: ${FAKE_CLAUDE} }
`;

describe('loading the Claude Agent SDK', () => {
  it('says which package to install, with exit code 2, when it is not installed', async () => {
    const error = await loadClaudeAgentSdk(notInstalled).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ClaudeAgentSdkMissingError);
    expect((error as Error).message).toBe(
      'claude_code steps need @anthropic-ai/claude-agent-sdk: npm install @anthropic-ai/claude-agent-sdk',
    );
    expect((error as ClaudeAgentSdkMissingError).exitCode).toBe(ExitCode.invalidInput);
  });

  it('does not disguise a missing dependency of the SDK as a missing SDK', async () => {
    const brokenInstall = () =>
      Promise.reject(
        Object.assign(new Error("Cannot find package '@modelcontextprotocol/sdk' imported from sdk.mjs"), {
          code: 'ERR_MODULE_NOT_FOUND',
        }),
      );
    const error = await loadClaudeAgentSdk(brokenInstall).catch((e: unknown) => e);

    expect(error).not.toBeInstanceOf(ClaudeAgentSdkMissingError);
    expect((error as Error).message).toContain('@modelcontextprotocol/sdk');
  });

  it('loads the installed SDK', async () => {
    const sdk = await loadClaudeAgentSdk();
    expect(typeof sdk.query).toBe('function');
  });
});

describe('before a run starts', () => {
  it('finds claude_code steps nested in parallel groups', () => {
    const loaded = loadPipelineFromString(WITH_CLAUDE_CODE, '/tmp/nested.yaml');
    expect(claudeCodeSteps(loaded.pipeline).map((s) => s.name)).toEqual(['b']);
  });

  it('fails with the install hint when the SDK is missing, and does not import it for pipelines without claude_code', async () => {
    const importer = vi.fn(notInstalled);
    const withIt = loadPipelineFromString(WITH_CLAUDE_CODE, '/tmp/nested.yaml');
    const without = loadPipelineFromString(
      'name: plain\nsteps:\n  - { name: a, type: mock, prompt: "a" }\n',
      '/tmp/p.yaml',
    );

    await expect(assertClaudeCodeReady(withIt, {}, importer)).rejects.toThrow(
      /npm install @anthropic-ai\/claude-agent-sdk/,
    );
    await assertClaudeCodeReady(without, {}, importer);
    expect(importer).toHaveBeenCalledTimes(1);
  });

  describe('through the engine', () => {
    const { tempDir, defer } = perTest();
    let dir: string;
    let store: SqliteStore;
    beforeEach(() => {
      dir = tempDir('elexirion-cc-preflight-');
      const own = new SqliteStore(':memory:');
      defer(() => own.close());
      store = own;
    });

    it('refuses a missing executable with exit code 2 before any run is recorded', async () => {
      const file = join(dir, 'missing.yaml');
      writeFileSync(
        file,
        'name: missing\nsteps:\n  - { name: a, type: claude_code, prompt: "a", executable: ./bin/claude }\n',
      );
      const engine = new Engine({ store });

      const error = await engine.start(await loadPipeline(file)).catch((e: unknown) => e);

      expect((error as Error).message).toContain(join(dir, 'bin', 'claude'));
      expect((error as { exitCode: number }).exitCode).toBe(ExitCode.invalidInput);
      expect(await store.listRuns({})).toEqual([]);
    });

    // The engine's env is the environment its steps resolve CLAUDE_CODE_EXECUTABLE from: the check
    // before the start reads the same one, not process.env.
    // (perTest's hook undoes their env stubs.)
    describe("CLAUDE_CODE_EXECUTABLE from the engine's env", () => {
      const pipeline = async () => {
        const file = join(dir, 'from-env.yaml');
        writeFileSync(file, 'name: from-env\nsteps:\n  - { name: a, type: claude_code, prompt: "a" }\n');
        return loadPipeline(file);
      };

      it('refuses a missing one there before any run is recorded, whatever process.env says', async () => {
        vi.stubEnv('CLAUDE_CODE_EXECUTABLE', FAKE_CLAUDE);
        const engine = new Engine({ store, env: { ...process.env, CLAUDE_CODE_EXECUTABLE: join(dir, 'nowhere') } });

        const error = await engine.start(await pipeline()).catch((e: unknown) => e);

        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toContain(join(dir, 'nowhere'));
        expect((error as { exitCode: number }).exitCode).toBe(ExitCode.invalidInput);
        expect(await store.listRuns({})).toEqual([]);
      });

      it('starts with a working one there though process.env names a missing one', async () => {
        vi.stubEnv('CLAUDE_CODE_EXECUTABLE', join(dir, 'nowhere'));
        const engine = new Engine({ store, env: { ...process.env, CLAUDE_CODE_EXECUTABLE: FAKE_CLAUDE } });

        const result = await (await engine.start(await pipeline())).result;
        await engine.drain();

        expect(result.status, result.error).toBe('succeeded');
      });
    });
  });
});

describe('resolving the executable', () => {
  const { tempDir } = perTest();

  it('prefers the step, then CLAUDE_CODE_EXECUTABLE, then leaves it to the SDK', () => {
    const env = { CLAUDE_CODE_EXECUTABLE: FAKE_CLAUDE, PATH: '' };
    expect(resolveClaudeExecutable(FAKE_CLAUDE, {}, '/')).toBe(FAKE_CLAUDE);
    expect(resolveClaudeExecutable(undefined, env, '/')).toBe(FAKE_CLAUDE);
    expect(resolveClaudeExecutable(undefined, {}, '/')).toBeUndefined();
  });

  it('refuses a script the SDK would start as a program when it is not executable (.cjs), not one it runs with node', () => {
    const dir = tempDir('elexirion-cc-exe-');
    for (const name of ['claude.cjs', 'claude.mjs'])
      writeFileSync(join(dir, name), '#!/usr/bin/env node\n', { mode: 0o644 });
    // The SDK runs .js/.mjs/.ts/.tsx/.jsx with node and spawns anything else itself: EACCES.
    expect(() => resolveClaudeExecutable('./claude.cjs', {}, dir)).toThrow(/does not exist or is not executable/);
    expect(resolveClaudeExecutable('./claude.mjs', {}, dir)).toBe(join(dir, 'claude.mjs'));
  });

  it('looks a bare name up on PATH', () => {
    const binDir = join(FAKE_CLAUDE, '..');
    expect(resolveClaudeExecutable('claude', { PATH: `/nonexistent:${binDir}` }, '/')).toBe(FAKE_CLAUDE);
    expect(() => resolveClaudeExecutable('claude', { PATH: '/nonexistent' }, '/')).toThrow(/not found on PATH/);
  });
});
