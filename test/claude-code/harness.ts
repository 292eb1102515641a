// Runs pipelines with claude_code steps through a real Engine against the fake `claude` executable
// (test/fakes/claude-code/claude), and reads back what the fake was given.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine, type EngineOptions, type RunHandle, type StartOptions } from '../../src/engine/engine.js';
import type { RunResult } from '../../src/engine/run-result.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { StepRecord } from '../../src/journal/store.js';

export const FAKE_CLAUDE = fileURLToPath(new URL('../fakes/claude-code/claude', import.meta.url));
/** A `claude` for sessions that end in ways the fake does not play (see the file). */
export const SCRIPTED_CLAUDE = fileURLToPath(new URL('./fixtures/claude-scripted.mjs', import.meta.url));
/**
 * A session is started with a minimal environment: the fakes' own variables (where to log, which
 * scenario to play) reach them only when the step passes them.
 */
export const PASS_FAKE_ENV = 'pass_env: [FAKE_CLAUDE_LOG, FAKE_CLAUDE_SCENARIO]';

export interface FakeLogEntry {
  pid: number;
  event: 'start' | 'stdin' | 'stdin-closed' | 'turn' | 'result' | 'signal' | 'called';
  argv?: string[];
  cwd?: string;
  /** The session's environment (start): each variable's name, with a fingerprint of its value. */
  env?: Record<string, string>;
  turn?: number;
  message?: { type: string; request?: Record<string, unknown>; message?: { content: unknown } };
  subtype?: string;
  signal?: string;
}

/** A temporary directory holding a pipeline, its journal and the fake's log. */
export class Workspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'elexirion-claude-code-'));
  readonly log = join(this.dir, 'fake-claude.log');
  readonly store = new SqliteStore(join(this.dir, 'journal.db'));
  readonly engine: Engine;

  constructor(options: Omit<EngineOptions, 'store'> = {}) {
    this.engine = new Engine({ ...options, store: this.store });
  }

  async start(yaml: string, options: StartOptions = {}): Promise<RunHandle> {
    const file = join(this.dir, 'pipeline.yaml');
    writeFileSync(file, yaml);
    return this.engine.start(await loadPipeline(file), options);
  }

  async run(yaml: string, options: StartOptions = {}): Promise<{ result: RunResult; steps: StepRecord[] }> {
    const result = await (await this.start(yaml, options)).result;
    return { result, steps: await this.store.getSteps(result.run_id) };
  }

  /** Every event the fake logged, in order (empty when it never started). */
  fakeLog(): FakeLogEntry[] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as FakeLogEntry);
  }

  async dispose(): Promise<void> {
    await this.engine.drain();
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }); // a claude may write on a moment
  }
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Whether `pid` is running. A zombie is not: a tool's command that outlived its `claude` is an orphan,
 * and once killed it stays a zombie until init reaps it — which some inits (a container's) never do.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); // Linux: "pid (comm) STATE …"
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no /proc (macOS): a zombie counts as alive there
  }
}

/** How the fake logs a variable's value: the first 16 hex digits of its SHA-256, never the value. */
export function fingerprint(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}
