// The dashboard keys a run's steps by name: a step named like a property every JavaScript object
// inherits (`constructor`, `__proto__` — both valid step names) must get its own row, live and when
// the finished run is opened, with no script error. In headless Chromium, against the service
// started in-process from the sources (the other browser tests run the built CLI).
// Needs Debian's chromium at /usr/bin/chromium (CI installs it).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { type Service, startService } from '../../src/server/service.js';
import { chromiumFor, launchChromium } from './chromium.js';

const hasChromium = chromiumFor('the dashboard step-names test');

const NAMES = `name: names
steps:
  - name: plan
    type: mock
    prompt: "Plan"
    response: "planned"
    latency: 300ms
  - name: __proto__
    type: mock
    prompt: "Proto"
    response: "prototyped"
    latency: 300ms
  - name: constructor
    type: mock
    prompt: "Build"
    response: "built"
    latency: 300ms
`;

describe.skipIf(!hasChromium)('dashboard: steps named like Object.prototype properties', () => {
  let store: SqliteStore;
  let service: Service;
  let browser: Browser;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'elexirion-step-names-'));
    writeFileSync(join(root, 'names.yaml'), NAMES);
    store = new SqliteStore(':memory:');
    service = await startService({ store, root, port: 0, env: {} }); // no token: loopback only
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.shutdown(1000);
    await store?.close();
  });

  const submit = async (): Promise<string> => {
    const res = await fetch(`${service.url}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ file: 'names.yaml' }),
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { run_id: string }).run_id;
  };

  async function runPage(runId: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${service.url}/#/runs/${runId}`);
    await page.waitForSelector('#run-status.succeeded', { timeout: 15_000 });
    return { page, errors };
  }

  async function expectEveryStep(page: Page, errors: string[]): Promise<void> {
    await expect
      .poll(() =>
        page.$$eval('.timeline .step', (rows) =>
          rows.map((r) => `${r.getAttribute('data-step')}=${r.getAttribute('data-status')}`),
        ),
      )
      .toEqual(['plan=succeeded', '__proto__=succeeded', 'constructor=succeeded']);
    await expect.poll(() => page.textContent('.step[data-step="constructor"] .output')).toBe('built');
    await expect.poll(() => page.textContent('.step[data-step="__proto__"] .output')).toBe('prototyped');
    // Every step's tokens in the run's totals (none for the second run: its calls are cache hits).
    const stepTokens = () =>
      page.$$eval('.timeline .step', (rows) =>
        rows.reduce((sum, r) => sum + Number.parseInt(r.children[4]?.textContent ?? '0', 10), 0),
      );
    await expect.poll(async () => Number(await page.textContent('#run-tokens'))).toBe(await stepTokens());
    expect(await page.textContent('#error')).toBe('');
    expect(errors).toEqual([]);
  }

  it('shows them live, each in its own row', async () => {
    const { page, errors } = await runPage(await submit());
    await expectEveryStep(page, errors);
    await page.close();
  }, 60_000);

  it('shows them when the finished run is opened', async () => {
    const runId = await submit();
    await expect
      .poll(async () => ((await (await fetch(`${service.url}/runs/${runId}`)).json()) as { status: string }).status, {
        timeout: 15_000,
      })
      .toBe('succeeded');
    const { page, errors } = await runPage(runId);
    await expectEveryStep(page, errors);
    await page.close();
  }, 60_000);
});
