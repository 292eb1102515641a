// `elexirion serve` (and `serve --cluster`) with a PostgreSQL journal it cannot reach exits 69 at
// start, with the clear error and its hint — not a server that answers every request with 503.
// A real process (the built CLI): what is checked is what a user starting it sees.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CLI } from '../browser/serve-process.js';

const REDIS_URL = process.env.ELEXIRION_TEST_REDIS ?? 'redis://127.0.0.1:6379';

/** A port nothing listens on (taken, then let go). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** Runs `serve` with `args`; a server still running after 15 s is stopped (`code` null). */
async function serve(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], {
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe('serve with an unreachable PostgreSQL journal', () => {
  const cases: [string, string[]][] = [
    ['serve', []],
    ['serve --cluster', ['--cluster', '--redis', REDIS_URL]],
  ];
  for (const [command, cluster] of cases) {
    it(`${command}: exit 69 before listening, the journal named, its password masked, no stack trace`, async () => {
      const port = await closedPort();
      const result = await serve([...cluster, '--db', `postgres://postgres:pgsecret@127.0.0.1:${port}/x`]);
      expect(result.stdout).not.toContain('listening');
      expect(result.code).toBe(69);
      expect(result.stderr).toContain(
        `cannot use the PostgreSQL journal at postgres://postgres:***@127.0.0.1:${port}/x: connect ECONNREFUSED`,
      );
      expect(result.stderr).toContain(`hint: is PostgreSQL running at 127.0.0.1:${port}?`);
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(result.stderr).not.toContain('pgsecret');
    }, 30_000);
  }
});
