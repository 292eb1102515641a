// The dashboard end to end in headless Chromium: a real `elexirion serve` process, the token typed
// into the page, a run started from the page, its steps appearing live, its end.
// Needs Debian's chromium at /usr/bin/chromium (CI installs it) and a built dist/ (npm test builds).
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeProcess, startServe } from './serve-process.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'browser-test-token-42';
const SCREENSHOTS = join(import.meta.dirname, '__screenshots__');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`skipping the dashboard browser test: ${CHROMIUM} is absent (apt-get install chromium)`);

const DEMO = `name: demo
description: Three slow mock steps, streamed.
steps:
  - name: outline
    type: mock
    prompt: "Outline a note about otters"
    response: "Otters hold hands while they sleep so that they do not drift apart"
    latency: 700ms
  - name: draft
    type: mock
    prompt: "Draft from {{ steps.outline.output }}"
    response: "A short draft about sleeping otters"
    latency: 700ms
  - name: polish
    type: mock
    prompt: "Polish {{ steps.draft.output }}"
    response: "A polished note about otters"
    latency: 700ms
outputs:
  note: "{{ steps.polish.output }}"
`;

describe.skipIf(!hasChromium)('dashboard in headless Chromium', () => {
  let serve: ServeProcess;
  let browser: Browser;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'elexirion-dashboard-'));
    writeFileSync(join(root, 'demo.yaml'), DEMO);
    serve = await startServe(['--root', root, '--db', join(root, 'journal.db')], {
      ELEXIRION_TOKEN: TOKEN,
      ELEXIRION_LOG_LEVEL: 'warn',
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (serve) expect(await serve.stop()).toBe(0);
  });

  it('asks for the token, starts a run, shows its steps live and its end', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(serve.url);

    // No token yet: the page asks for it; a wrong one is refused and asked for again.
    await page.fill('#token-input', 'wrong-token');
    await page.click('#token-save');
    await page.waitForSelector('#login:not(.hidden)');
    await expect.poll(() => page.textContent('#error')).toMatch(/refused/);
    await page.fill('#token-input', TOKEN);
    await page.click('#token-save');
    await page.waitForSelector('#pipeline-select option[value="demo.yaml"]', { state: 'attached' });
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem(
          'elexirion-token',
        ),
      ),
    ).toBe(TOKEN);

    await page.selectOption('#pipeline-select', 'demo.yaml');
    expect(await page.isChecked('#mock')).toBe(true);
    await page.click('#start-run');
    await page.waitForURL(/#\/runs\/[0-9A-Z]{26}$/);

    // Live: the first step is shown running before the run has finished.
    await page.waitForSelector('.step[data-step="outline"]');
    await page.waitForSelector('.step[data-step="outline"][data-status="succeeded"]');
    expect(await page.textContent('#run-status')).toBe('running');
    expect(await page.locator('.step[data-step="polish"]').count()).toBe(0);
    // Streamed output arrives in the step's row.
    await expect.poll(() => page.textContent('.step[data-step="draft"] .output')).toContain('draft');

    await page.waitForSelector('#run-status.succeeded', { timeout: 10_000 });
    const statuses = await page.$$eval('.step', (rows) => rows.map((r) => r.getAttribute('data-status')));
    expect(statuses).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(await page.textContent('.step[data-step="polish"]')).toMatch(/\d+ tok/);
    await expect.poll(() => page.textContent('#run-outputs')).toContain('A polished note about otters');
    expect(Number(await page.textContent('#run-tokens'))).toBeGreaterThan(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'run.png'), fullPage: true });

    // The runs list shows it, finished, with its numbers.
    await page.click('header h1 a');
    await page.waitForSelector('#runs tbody tr .status.succeeded');
    const row = await page.textContent('#runs tbody tr');
    expect(row).toMatch(/demo/);
    expect(row).toMatch(/succeeded/);
    // Breakers of the providers used so far appear in the header.
    await page.waitForSelector('#breakers .chip[data-provider="mock"]');
    await page.screenshot({ path: join(SCREENSHOTS, 'runs.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 60_000);
});
