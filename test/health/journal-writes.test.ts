// The health check must notice a journal that answers reads but takes no writes: an instance that
// cannot record a run must not tell its load balancer it is healthy. Proven with real failures:
// a full file system (a 4 MiB tmpfs; needs root, as mount does — skipped otherwise) and a
// directory the process may not write (chmod; root ignores it — skipped for root). Every
// environment runs one of the two; both recover once the journal takes writes again.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLoopMonitor } from '../../src/health/event-loop.js';
import { checkHealth } from '../../src/health/health.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { type Service, startService } from '../../src/server/service.js';

const PIPELINE = 'name: p\nsteps:\n  - { name: s, type: mock, prompt: hi }\n';

const eventLoop = new EventLoopMonitor();
afterAll(() => eventLoop.stop());

/** A 4 MiB tmpfs, or why there is none (not root, no CAP_SYS_ADMIN in this container). */
function mountTinyFs(): { dir: string } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root' };
  const dir = mkdtempSync(join(tmpdir(), 'elexirion-tinyfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4M', 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs here: ${(error as Error).message.split('\n')[0]}` };
  }
}

/** Writes zeros into `file` until the file system is full. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

async function serviceOn(dir: string): Promise<{ service: Service; store: SqliteStore }> {
  const root = join(dir, 'root');
  mkdirSync(root);
  writeFileSync(join(root, 'p.yaml'), PIPELINE);
  const store = new SqliteStore(join(dir, 'journal', 'journal.db'));
  return { store, service: await startService({ store, root, port: 0, env: {} }) };
}

const health = async (service: Service) => {
  const res = await fetch(`${service.url}/health`);
  const report = (await res.json()) as { status: string; checks: { database: { status: string; error?: string } } };
  return { code: res.status, status: report.status, database: report.checks.database };
};

const submit = (service: Service) =>
  fetch(`${service.url}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ file: 'p.yaml' }),
  });

async function finished(service: Service, runId: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const run = (await (await fetch(`${service.url}/runs/${runId}`)).json()) as { status: string };
    if (run.status !== 'running') return run.status;
    await new Promise((r) => setTimeout(r, 50));
  }
  return 'running';
}

const tiny = mountTinyFs();

describe('GET /health with the journal on a full file system', () => {
  afterAll(() => {
    if (!('dir' in tiny)) return;
    execFileSync('umount', ['-l', tiny.dir]);
    rmSync(tiny.dir, { recursive: true, force: true });
  });

  it.skipIf('skip' in tiny)('is unhealthy (503) while the journal cannot be written, healthy once it can', async () => {
    if (!('dir' in tiny)) return;
    const { service, store } = await serviceOn(tiny.dir);
    try {
      // A run journaled: the write-ahead log's directory exists, as on any server that has run.
      const first = (await (await submit(service)).json()) as { run_id: string };
      expect(await finished(service, first.run_id)).toBe('succeeded');
      expect(await health(service)).toMatchObject({ code: 200, database: { status: 'ok' } });

      const filler = join(tiny.dir, 'filler');
      fill(filler);
      // What the load balancer must hear about: the instance cannot record a run.
      const full = await health(service);
      expect(full).toMatchObject({ code: 503, status: 'unhealthy', database: { status: 'fail' } });
      expect(full.database.error).toMatch(/the journal cannot be written: ENOSPC/);
      expect(full.database.error).not.toContain(tiny.dir); // /health needs no token: no paths

      rmSync(filler);
      expect(await health(service)).toMatchObject({ code: 200, database: { status: 'ok' } });
      const again = await submit(service);
      expect(again.status).toBe(202);
      expect(await finished(service, ((await again.json()) as { run_id: string }).run_id)).toBe('succeeded');
      // The probe leaves nothing behind.
      const logDir = `${join(tiny.dir, 'journal', 'journal.db')}-log`;
      expect(readdirSync(logDir).filter((n) => n.includes('health'))).toEqual([]);
    } finally {
      await service.shutdown(1000).catch(() => {});
      await store.close().catch(() => {});
    }
  });
});

describe('checkHealth with a journal whose directory may not be written', () => {
  it('is unhealthy while the directory is read-only, healthy again once it is not', async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-health-ro-'));
    const store = new SqliteStore(join(dir, 'journal.db'));
    try {
      expect((await checkHealth({ store, eventLoop, env: {} })).checks.database.status).toBe('ok');
      chmodSync(dir, 0o555);
      try {
        writeFileSync(join(dir, 'can-i'), '');
        rmSync(join(dir, 'can-i'));
        ctx.skip(); // root (or CAP_DAC_OVERRIDE) writes anyway: the tmpfs test covers this environment
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
      }
      const report = await checkHealth({ store, eventLoop, env: {} });
      expect(report.status).toBe('unhealthy');
      expect(report.checks.database).toMatchObject({ status: 'fail' });
      expect(report.checks.database.error).toMatch(/the journal cannot be written: EACCES/);
      chmodSync(dir, 0o755);
      expect((await checkHealth({ store, eventLoop, env: {} })).checks.database.status).toBe('ok');
    } finally {
      chmodSync(dir, 0o755);
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('checkHealth write probe', () => {
  it('writes beside a SQLite journal and leaves nothing there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-health-probe-'));
    const store = new SqliteStore(join(dir, 'journal.db'));
    try {
      const before = readdirSync(dir).sort();
      const reports = await Promise.all([1, 2, 3].map(() => checkHealth({ store, eventLoop, env: {} })));
      expect(reports.map((r) => r.checks.database.status)).toEqual(['ok', 'ok', 'ok']);
      expect(readdirSync(dir).sort()).toEqual(before);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("uses the store's own write probe when it has one (a journal on a server, e.g. PostgreSQL)", async () => {
    let writable = false;
    const calls: string[] = [];
    const store = {
      listRuns: async () => {
        calls.push('read');
        return [];
      },
      probeWrite: async () => {
        calls.push('write');
        if (!writable) throw new Error('cannot execute INSERT in a read-only transaction');
      },
    };
    const refused = await checkHealth({ store, eventLoop, env: {} });
    expect(refused.status).toBe('unhealthy');
    expect(refused.checks.database).toMatchObject({ status: 'fail', error: expect.stringMatching(/read-only/) });
    writable = true;
    expect((await checkHealth({ store, eventLoop, env: {} })).checks.database.status).toBe('ok');
    expect(calls).toEqual(['read', 'write', 'read', 'write']);
  });

  it('bounds the write probe by the same timeout as the query', async () => {
    const store = { listRuns: async () => [], probeWrite: () => new Promise<never>(() => {}) };
    const report = await checkHealth({ store, eventLoop, env: {}, databaseTimeoutMs: 20 });
    expect(report.checks.database).toMatchObject({ status: 'fail', error: expect.stringMatching(/within 20 ms/) });
  });
});
