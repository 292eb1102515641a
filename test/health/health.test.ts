import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLoopMonitor } from '../../src/health/event-loop.js';
import { checkHealth } from '../../src/health/health.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { GateRegistry } from '../../src/resilience/gate-registry.js';
import { runMain } from '../cli/run-main.js';

const eventLoop = new EventLoopMonitor();
afterAll(() => eventLoop.stop());

const gatesWith = (state: 'closed' | 'open' | 'half_open') =>
  ({
    summary: () => [{ provider: 'anthropic', gates: 1, circuit: state, inFlight: 2, queued: 1 }],
  }) as unknown as GateRegistry;

describe('checkHealth', () => {
  it('is healthy with a working journal and closed breakers', async () => {
    const store = new SqliteStore(':memory:');
    const report = await checkHealth({
      store,
      gates: gatesWith('closed'),
      activeRuns: 3,
      eventLoop,
      env: { ANTHROPIC_API_KEY: 'sk-ant-x' },
    });
    expect(report.status).toBe('healthy');
    expect(report.checks.database.status).toBe('ok');
    expect(report.checks.activeRuns.count).toBe(3);
    const anthropic = report.checks.providers.providers.find((p) => p.name === 'anthropic');
    expect(anthropic).toMatchObject({ circuit: 'closed', keyPresent: true, inFlight: 2, queued: 1 });
    expect(report.checks.providers.providers.find((p) => p.name === 'openai')).toMatchObject({
      circuit: 'unused',
      keyPresent: false,
    });
    expect(report.checks.memory.rssBytes).toBeGreaterThan(0);
    await store.close();
  });

  it('is degraded when a breaker is open, unhealthy when the journal fails', async () => {
    const store = new SqliteStore(':memory:');
    const open = await checkHealth({ store, gates: gatesWith('open'), eventLoop, env: {} });
    expect(open.status).toBe('degraded');
    expect(open.checks.providers.status).toBe('warn');
    await store.close();
    const broken = await checkHealth({ store, eventLoop, env: {} }); // closed: every query throws
    expect(broken.status).toBe('unhealthy');
    expect(broken.checks.database.status).toBe('fail');
    expect(broken.checks.database.error).toBeTruthy();
  });

  it('does not report a blank key as present (the provider would refuse to start without one)', async () => {
    const store = new SqliteStore(':memory:');
    const report = await checkHealth({ store, eventLoop, env: { ANTHROPIC_API_KEY: '  ', OPENAI_API_KEY: 'sk-x' } });
    await store.close();
    const byName = (name: string) => report.checks.providers.providers.find((p) => p.name === name);
    expect(byName('anthropic')?.keyPresent).toBe(false);
    expect(byName('openai')?.keyPresent).toBe(true);
  });

  it('is unhealthy, not stuck, when the journal never answers', async () => {
    const hanging = { listRuns: () => new Promise<never>(() => {}) };
    const report = await checkHealth({ store: hanging, eventLoop, env: {}, databaseTimeoutMs: 20 });
    expect(report.status).toBe('unhealthy');
    expect(report.checks.database).toMatchObject({ status: 'fail', error: expect.stringMatching(/within 20 ms/) });
  });

  it('keeps secrets out of the journal error it reports (GET /health needs no token)', async () => {
    const password = 'pg-Pa55word-Q7wE9';
    const key = 'sk-ant-fake-Zq9xW3vB7nM2kL5pR8tY';
    const failing = {
      listRuns: () =>
        Promise.reject(new Error(`cannot reach postgres://elexirion:${password}@db:5432/journal (key ${key})`)),
    };
    const report = await checkHealth({ store: failing, eventLoop, env: { ANTHROPIC_API_KEY: key } });
    expect(report.checks.database.error).toBe('cannot reach postgres://elexirion:***@db:5432/journal (key [REDACTED])');
  });

  it('is degraded when the event loop lags', async () => {
    const lagging = new EventLoopMonitor(1);
    await new Promise((r) => setTimeout(r, 20));
    const until = Date.now() + 120;
    while (Date.now() < until) {
      // block the loop
    }
    await new Promise((r) => setTimeout(r, 20));
    const report = await checkHealth({ store: new SqliteStore(':memory:'), eventLoop: lagging, maxLagMs: 50 });
    lagging.stop();
    expect(report.checks.eventLoop.maxMs).toBeGreaterThan(50);
    expect(report.status).toBe('degraded');
  });
});

describe('elexirion health', () => {
  it('prints JSON and exits 0 when healthy', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'elexirion-health-')), 'j.db');
    await new SqliteStore(db).close();
    const result = await runMain(['health', '--json', '--db', db], { env: { NO_COLOR: '1' } });
    const report = JSON.parse(result.stdout);
    expect(report.checks.database.status).toBe('ok');
    expect(result.code).toBe(report.status === 'healthy' ? 0 : 1);
    const text = await runMain(['health', '--db', db], { env: { NO_COLOR: '1' } });
    expect(text.stdout).toMatch(/^elexirion: (healthy|degraded)/);
    expect(text.stdout).toMatch(/database\s+ok/);
  });

  it('exits 1 and says why when the journal cannot be opened', async () => {
    // A file that is not a SQLite database.
    const file = join(mkdtempSync(join(tmpdir(), 'elexirion-health-')), 'not-a-db');
    writeFileSync(file, 'these are notes, not a journal\n');
    const result = await runMain(['health', '--json', '--db', file], { env: { NO_COLOR: '1' } });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.status).toBe('unhealthy');
    expect(report.checks.database.error).toMatch(/cannot open the journal/);
  });

  it('creates no journal: none at --db is unhealthy, exit 1, and nothing is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-health-'));
    const db = join(dir, 'typo', 'jornal.db');
    const result = await runMain(['health', '--json', '--db', db], { env: { NO_COLOR: '1' } });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.status).toBe('unhealthy');
    expect(report.checks.database.error).toContain(`no journal at ${db}`);
    expect(existsSync(join(dir, 'typo'))).toBe(false);
  });
});
