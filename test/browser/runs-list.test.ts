// The dashboard's runs list as an operator meets it: more runs than one page holds, and a server
// that stops answering for a while (restarted, a network cut) and comes back. In headless Chromium,
// against the service started in-process from the sources (as step-names.test.ts).
// Needs Debian's chromium at /usr/bin/chromium (CI installs it).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { type Service, startService } from '../../src/server/service.js';
import { chromiumFor, launchChromium } from './chromium.js';

const hasChromium = chromiumFor('the dashboard runs-list test');

const QUICK = 'name: quick\nsteps:\n  - { name: only, type: mock, prompt: "hi", response: "ok" }\n';
/** One page of the list (the page asks for 50 runs at first). */
const PAGE = 50;

describe.skipIf(!hasChromium)('dashboard: the runs list', () => {
  let store: SqliteStore;
  let service: Service;
  let browser: Browser;
  const runIds: string[] = [];

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'elexirion-runs-list-'));
    writeFileSync(join(root, 'quick.yaml'), QUICK);
    store = new SqliteStore(':memory:');
    service = await startService({ store, root, port: 0, env: {} }); // no token: loopback only
    // More runs than one page: the oldest ones are past the first page.
    for (let i = 0; i < PAGE + 5; i++) {
      const res = await fetch(`${service.url}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ file: 'quick.yaml', mock: true }),
      });
      runIds.push(((await res.json()) as { run_id: string }).run_id);
    }
    // Each finished: the list's rows are not to change under the test.
    await service.engine.drain();
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.shutdown(1000);
    await store?.close();
  });

  async function listPage(): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(service.url);
    await page.waitForSelector('#runs tbody tr');
    return { page, errors };
  }

  const shownRuns = (page: Page) =>
    page.$$eval('#runs tbody tr', (rows) => rows.map((r) => r.getAttribute('data-run')));

  it('reaches the runs past the first page', async () => {
    const { page, errors } = await listPage();
    expect(await shownRuns(page)).toHaveLength(PAGE);
    const oldest = runIds[0] as string;
    expect(await shownRuns(page)).not.toContain(oldest);
    // The list says there is more, and shows it on demand.
    await page.click('#more-runs');
    await expect.poll(() => shownRuns(page)).toContain(oldest);
    expect(await shownRuns(page)).toHaveLength(runIds.length);
    // Every run is shown now: nothing more to ask for.
    expect(await page.isVisible('#more-runs')).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('clears its error, and the health it showed, once the server answers again', async () => {
    const { page, errors } = await listPage();
    await page.waitForSelector('#health.closed'); // healthy: green
    // The server stops answering (restarted, cut off): every request of the page fails.
    await page.route('**/*', (route) => route.abort('connectionrefused'));
    await expect.poll(() => page.textContent('#error'), { timeout: 10_000 }).not.toBe('');
    await expect.poll(() => page.textContent('#health'), { timeout: 10_000 }).toBe('unreachable');
    // Not in the colour of the last answer.
    expect(await page.getAttribute('#health', 'class')).not.toMatch(/\bclosed\b/);

    await page.unroute('**/*');
    // Back: the list refreshes, and says nothing is wrong any more.
    await expect.poll(() => page.textContent('#error'), { timeout: 10_000 }).toBe('');
    await expect.poll(() => page.textContent('#health'), { timeout: 10_000 }).toBe('healthy');

    // Only the message of the failed refresh goes: one the refresh did not cause stays to be read.
    await page.fill('#inputs', '{not json');
    await page.click('#start-run');
    expect(await page.textContent('#error')).toBe('inputs: not valid JSON');
    const refreshed = () => page.waitForResponse((r) => r.url().includes('/runs?limit='));
    await refreshed();
    await refreshed();
    expect(await page.textContent('#error')).toBe('inputs: not valid JSON');
    expect(errors).toEqual([]);
    await page.close();
  }, 40_000);
});
