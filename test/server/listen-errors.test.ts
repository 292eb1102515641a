// `serve` that cannot listen says why, with an exit code of its own — never "internal error" (70).
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../cli/run-main.js';

describe('serve cannot listen', () => {
  let taken: Server;
  let port: number;
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((done) => taken.close(() => done())));

  it('the port already in use: exit 69, what and what to do, no stack trace', async () => {
    const result = await runMain(['serve', '--port', String(port), '--db', ':memory:'], {
      env: { NO_COLOR: '1', ELEXIRION_LOG_LEVEL: 'silent' },
    });
    expect(result.code).toBe(69);
    expect(result.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is already in use`);
    expect(result.stderr).toContain('choose another port with --port');
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it('a host that is not an address of this machine: exit 2', async () => {
    const result = await runMain(['serve', '--host', '192.0.2.1', '--port', '0', '--db', ':memory:'], {
      env: { NO_COLOR: '1', ELEXIRION_LOG_LEVEL: 'silent', ELEXIRION_TOKEN: 't' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot listen on 192.0.2.1:0: 192.0.2.1 is not an address of this machine');
  });
});
