// What the claude-code tests set up around each test, in one place: a workspace whose fake logs
// there and plays no scenario, temporary directories, and their teardown after the test — the env
// stubs undone, the engines drained, the directories removed with retries (a real claude may still
// be saving its session there a moment after its result, and the step ends at the result).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, vi } from 'vitest';
import { Workspace } from './harness.js';

type Cleanup = () => void | Promise<void>;
type WorkspaceOptions = ConstructorParameters<typeof Workspace>[0];

/** What a test makes through these is undone after it, newest first. */
export interface PerTest {
  /**
   * A fresh workspace, its fake logging there and playing no scenario, with CLAUDE_CODE_EXECUTABLE
   * unset (each step names its `claude`).
   */
  workspace(options?: WorkspaceOptions): Workspace;
  /** A new temporary directory. */
  tempDir(prefix: string): string;
  /** Something more to undo after the test. */
  defer(cleanup: Cleanup): void;
}

/** Registers, for the calling file or describe block, the hook that undoes what its tests made. */
export function perTest(): PerTest {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const defer = (cleanup: Cleanup) => {
    cleanups.push(cleanup);
  };
  return {
    defer,
    workspace(options = {}) {
      const ws = new Workspace(options);
      defer(() => ws.dispose());
      vi.stubEnv('FAKE_CLAUDE_LOG', ws.log);
      vi.stubEnv('FAKE_CLAUDE_SCENARIO', '');
      vi.stubEnv('CLAUDE_CODE_EXECUTABLE', '');
      return ws;
    },
    tempDir(prefix) {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      defer(() => removeLeniently(dir));
      return dir;
    },
  };
}

/**
 * `perTest`, and a fresh workspace made before each test: `ws` is the running test's. It stands for
 * whichever workspace that is (a proxy), so the tests use it as they would a variable of their own.
 */
export function useWorkspace(): PerTest & { ws: Workspace } {
  const scope = perTest();
  let current: Workspace | undefined;
  beforeEach(() => {
    scope.defer(() => {
      current = undefined;
    });
    current = scope.workspace();
  });
  const running = (): Workspace => {
    if (current === undefined) throw new Error('useWorkspace: a workspace exists only while a test runs');
    return current;
  };
  const ws = new Proxy({} as Workspace, {
    get(_target, key) {
      const target = running();
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { ...scope, ws };
}

/**
 * Removes `dir`, retrying while something still writes in it (a real claude saving its session
 * after its result, slowed by a loaded machine); one still busy after that is left in the temp
 * directory with a warning — a directory not yet removed is no failure of the test that made it.
 */
function removeLeniently(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  } catch (error) {
    console.warn(`left ${dir}: ${(error as Error).message}`);
  }
}
