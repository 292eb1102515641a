// A run's page for a run that fails, and for a step with a long name. In headless Chromium, against
// the service started in-process from the sources (as step-names.test.ts).
// Needs Debian's chromium at /usr/bin/chromium (CI installs it).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { type Service, startService } from '../../src/server/service.js';
import { chromiumFor, launchChromium } from './chromium.js';

const hasChromium = chromiumFor('the dashboard run-page test');

// Every step succeeds; the run fails rendering its outputs (the step's answer is no number), and
// the run's error quotes the template, markup and all: the run's failure is no step's.
const MARKUP = '<img src=x onerror="window.__xss=1">';
const OUTPUTS_FAIL = `name: outputs-fail
steps:
  - name: count
    type: mock
    prompt: "How many?"
    response: "twelve"
    latency: 300ms
outputs:
  short: "{{ '${MARKUP.replaceAll('"', '\\"')}' | truncate_tokens: steps.count.output }}"
`;

const LONG_NAME = `summarize_${'every_customer_review_'.repeat(8)}end`;
const LONG = `name: long-name
steps:
  - name: ${LONG_NAME}
    type: mock
    prompt: "hi"
    response: "ok"
`;

describe.skipIf(!hasChromium)('dashboard: a run’s page', () => {
  let store: SqliteStore;
  let service: Service;
  let browser: Browser;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'elexirion-run-page-'));
    writeFileSync(join(root, 'outputs-fail.yaml'), OUTPUTS_FAIL);
    writeFileSync(join(root, 'long.yaml'), LONG);
    store = new SqliteStore(':memory:');
    service = await startService({ store, root, port: 0, env: {} }); // no token: loopback only
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.shutdown(1000);
    await store?.close();
  });

  const submit = async (file: string): Promise<string> => {
    const res = await fetch(`${service.url}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ file, mock: true }),
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { run_id: string }).run_id;
  };

  async function open(runId: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${service.url}/#/runs/${runId}`);
    return { page, errors };
  }

  it('says why a run failed when no step did, as text', async () => {
    const runId = await submit('outputs-fail.yaml');
    // Live: the page was open while the run ran, and learnt its end from the event stream.
    const live = await open(runId);
    await live.page.waitForSelector('#run-status.failed', { timeout: 15_000 });
    await live.page.waitForSelector('.step[data-step="count"][data-status="succeeded"]');
    const { error: journaled } = (await (await fetch(`${service.url}/runs/${runId}`)).json()) as { error: string };
    // Placed in the file (relative to the served root), the output named.
    expect(journaled).toMatch(/^outputs-fail\.yaml:\d+:\d+: .*truncate_tokens/);
    expect(journaled).toMatch(/at outputs\./);
    expect(journaled).toContain(MARKUP);
    await expect.poll(() => live.page.textContent('#run-error')).toBe(journaled);
    expect(await live.page.isVisible('#run-error')).toBe(true);

    // Opened afterwards: the same.
    const later = await open(runId);
    await later.page.waitForSelector('#run-status.failed');
    await expect.poll(() => later.page.textContent('#run-error')).toBe(journaled);

    for (const { page, errors } of [live, later]) {
      expect(await page.locator('#run-view img').count()).toBe(0);
      expect(await page.evaluate('window.__xss')).toBeUndefined();
      expect(errors).toEqual([]);
      await page.close();
    }
  }, 40_000);

  it('keeps a long step name to its column, and whole in its title', async () => {
    const { page, errors } = await open(await submit('long.yaml'));
    await page.waitForSelector('#run-status.succeeded', { timeout: 15_000 });
    const name = page.locator('.step > :nth-child(2)');
    expect(await name.textContent()).toBe(LONG_NAME);
    expect(await name.getAttribute('title')).toContain(LONG_NAME);
    // Longer than its column, and cut there: not drawn over the step's status beside it.
    const fit = await page.$eval('.step > :nth-child(2)', (e) => ({
      overflows: e.scrollWidth > e.clientWidth,
      // Through globalThis: this project compiles without the DOM types.
      clipped:
        (globalThis as unknown as { getComputedStyle(e: unknown): { overflowX: string } }).getComputedStyle(e)
          .overflowX !== 'visible',
    }));
    expect(fit).toEqual({ overflows: true, clipped: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
