// The child process the SIGKILL tests kill: batch-kill-child.ts runs or resumes a pipeline, prints
// `run ID` once it has started, and logs each mock call to a file — so a test can kill it mid-run
// and count, over both processes, which calls were made.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const child = join(import.meta.dirname, 'batch-kill-child.ts');

export interface LaunchedChild {
  proc: ChildProcess;
  /** The run's id, once the child prints it. */
  runId: Promise<string>;
  exit: Promise<number | null>;
}

/** Starts the child: `['start', db, pipeline, callLog]` or `['resume', db, runId, callLog]`. */
export function launch(args: string[]): LaunchedChild {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const runId = new Promise<string>((resolve) => {
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /run (\S+)\n/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
  });
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, runId, exit };
}

/** The calls a child logged, one line each. */
export const calls = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
