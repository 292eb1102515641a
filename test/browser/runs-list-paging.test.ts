// The dashboard's runs list past 1,000 runs, the largest page GET /runs gives: "Show older runs"
// goes on, the page following each answer's `next` cursor, and every run is listed once, newest
// first. (Before, the list stopped at 1,000.) In headless Chromium, against the service started
// in-process, over a journal of finished runs written directly. Needs /usr/bin/chromium.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { emptyTotals } from '../../src/journal/store.js';
import { type Service, startService } from '../../src/server/service.js';
import { chromiumFor, launchChromium } from './chromium.js';

const hasChromium = chromiumFor('the dashboard runs-paging test');

/** Past the API's largest page, and not a whole number of the page's steps of 50. */
const RUNS = 1_073;

describe.skipIf(!hasChromium)('dashboard: more runs than one answer of GET /runs holds', () => {
  let store: SqliteStore;
  let service: Service;
  let browser: Browser;
  /** Newest first, as the list shows them. */
  const runIds: string[] = [];

  beforeAll(async () => {
    store = new SqliteStore(':memory:');
    for (let i = 0; i < RUNS; i++) {
      const id = `01PAGING${String(i).padStart(18, '0')}`;
      runIds.unshift(id);
      await store.createRun({
        ...{ id, pipelineName: 'paged', pipelineHash: 'h', pipeline: {}, inputs: {}, status: 'succeeded' },
        ...{ startedAt: 1_700_000_000_000 + i * 1000, finishedAt: 1_700_000_000_500 + i * 1000 },
        ...{ totals: emptyTotals(), metadata: {} },
      });
    }
    service = await startService({ store, root: mkdtempSync(join(tmpdir(), 'elexirion-paging-')), port: 0, env: {} });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.shutdown(1000);
    await store?.close();
  });

  it('"Show older runs" reaches the oldest run, each once, in order', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const cursors: string[] = [];
    page.on('request', (r) => {
      const cursor = new URL(r.url()).searchParams.get('cursor');
      if (cursor !== null) cursors.push(cursor);
    });
    await page.goto(service.url);
    await page.waitForSelector('#runs tbody tr');
    const rowCount = () => page.$$eval('#runs tbody tr', (rows) => rows.length);

    for (let shown = 50; shown < RUNS; shown += 50) {
      expect(await rowCount()).toBe(shown);
      expect(await page.isVisible('#more-runs'), `more after ${shown}`).toBe(true);
      await page.click('#more-runs');
      await expect.poll(rowCount, { timeout: 10_000 }).toBe(Math.min(shown + 50, RUNS));
    }
    const shown = await page.$$eval('#runs tbody tr', (rows) => rows.map((r) => r.getAttribute('data-run')));
    expect(shown).toEqual(runIds);
    // The oldest run is listed: nothing more to ask for.
    expect(await page.isVisible('#more-runs')).toBe(false);
    // The runs past the first 1,000 came from following `next`, once each: a refresh (every 2 s)
    // asks for the newest 1,000 only, never again for the older pages the tab holds.
    expect(cursors.length).toBeGreaterThan(0);
    const asked = cursors.length;
    const refreshes: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/runs') refreshes.push(r.url());
    });
    await expect.poll(() => refreshes.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect(cursors.length).toBe(asked);
    expect(await rowCount()).toBe(RUNS);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
