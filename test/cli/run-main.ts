// Runs the CLI in-process (src/cli/main.ts) with captured stdout/stderr: fast enough to call once
// per case, unlike spawning a process.
import { Writable } from 'node:stream';
import { createCliContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

export async function runMain(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  const out = collector();
  const err = collector();
  const ctx = createCliContext({
    stdout: out.stream,
    stderr: err.stream,
    env: options.env ?? { NO_COLOR: '1' },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const code = await main(['node', 'elexirion', ...args], ctx);
  return { code, stdout: out.text(), stderr: err.text() };
}
