// The dashboard end to end in headless Chromium: a real `elexirion serve` process, the token typed
// into the page, a run started from the page, its steps appearing live, its end — and what a user
// meets besides: a resumed or cancelled run, a dropped event stream, a long streamed answer,
// untrusted text, a server without a token.
// Needs Debian's chromium at /usr/bin/chromium (CI installs it) and a built dist/ (npm test builds).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumFor, launchChromium } from './chromium.js';
import { type ServeProcess, startServe } from './serve-process.js';
import { startTcpProxy } from './tcp-proxy.js';

const TOKEN = 'browser-test-token-42';
const SCREENSHOTS = join(import.meta.dirname, '__screenshots__');
const hasChromium = chromiumFor('the dashboard browser test');

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

// Its `sub` step runs child.yaml, read again when the step runs: valid when the run is accepted (a
// child is checked up front), broken while `outline` waits (the step fails), valid again before the
// resume (the step succeeds). The child's answer is markup, to be shown as text.
const PARENT = `name: parent
steps:
  - name: outline
    type: mock
    prompt: "Outline"
    response: "Otters hold hands"
    latency: 1500ms
  - name: sub
    type: pipeline
    file: child.yaml
outputs:
  answer: "{{ steps.sub.output.answer }}"
`;
const MARKUP = '<img src=x onerror="window.__xss=1"><b>bold</b>';
const CHILD = `name: child
steps:
  - name: inner
    type: mock
    prompt: "Answer"
    response: '${MARKUP}'
outputs:
  answer: "{{ steps.inner.output }}"
`;

// A step that runs long enough to be cancelled while it runs.
const SLOW = `name: slow
steps:
  - name: quick
    type: mock
    prompt: "Quick"
    response: "done"
  - name: long
    type: mock
    prompt: "Long"
    response: "never shown"
    latency: 60s
`;

// Three streamed steps; the connection is cut just before the page hears that step two started.
const STREAMED = `name: streamed
steps:
  - name: one
    type: mock
    prompt: "One"
    response: "alpha beta gamma"
    latency: 200ms
  - name: two
    type: mock
    prompt: "Two"
    response: "delta epsilon zeta"
    latency: 1500ms
  - name: three
    type: mock
    prompt: "Three"
    response: "eta theta iota"
    latency: 200ms
`;

const LONG_WORDS = 10_000;
const LONG = `name: long-answer
steps:
  - name: essay
    type: mock
    prompt: "Write at length"
    response: "${Array.from({ length: LONG_WORDS }, (_, i) => `w${i}`).join(' ')}"
`;

/**
 * What went wrong in a page: script errors, console errors (CSP violations among them) and the
 * loads that failed, as "401 /path" (from the console, which also reports the favicon's).
 */
function watch(page: Page): { errors: string[]; failedLoads: string[] } {
  const seen = { errors: [] as string[], failedLoads: [] as string[] };
  page.on('pageerror', (e) => seen.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const failed = /^Failed to load resource: (?:.*status of (\d+)|(net::\S+))/.exec(m.text());
    if (!failed) {
      seen.errors.push(m.text());
      return;
    }
    const url = new URL(m.location().url);
    seen.failedLoads.push(`${failed[1] ?? failed[2]} ${url.pathname}${url.search}`);
  });
  return seen;
}

describe.skipIf(!hasChromium)('dashboard in headless Chromium', () => {
  let serve: ServeProcess;
  let browser: Browser;
  let root: string;

  /** A page of `url` with the token entered, showing the runs list. */
  async function loggedIn(url = serve.url): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(url);
    await page.fill('#token-input', TOKEN);
    await page.click('#token-save');
    await page.waitForSelector('#pipeline-select option[value="demo.yaml"]', { state: 'attached' });
    return page;
  }

  async function startRun(page: Page, file: string): Promise<string> {
    await page.selectOption('#pipeline-select', file);
    await page.click('#start-run');
    await page.waitForURL(/#\/runs\/[0-9A-Z]{26}$/);
    return page.url().split('/').pop() as string;
  }

  async function stepStatuses(page: Page): Promise<Record<string, string | null>> {
    const rows = await page.$$eval('.step', (els) =>
      els.map((r) => [r.getAttribute('data-step'), r.getAttribute('data-status')]),
    );
    return Object.fromEntries(rows);
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'elexirion-dashboard-'));
    writeFileSync(join(root, 'demo.yaml'), DEMO);
    writeFileSync(join(root, 'parent.yaml'), PARENT);
    writeFileSync(join(root, 'child.yaml'), CHILD);
    writeFileSync(join(root, 'slow.yaml'), SLOW);
    writeFileSync(join(root, 'streamed.yaml'), STREAMED);
    writeFileSync(join(root, 'long.yaml'), LONG);
    serve = await startServe(['--root', root, '--db', join(root, 'journal.db')], {
      ELEXIRION_TOKEN: TOKEN,
      ELEXIRION_LOG_LEVEL: 'warn',
    });
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (serve) expect(await serve.stop()).toBe(0);
  });

  it('asks for the token, starts a run, shows its steps live and its end', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const seen = watch(page);
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
    expect(seen.errors).toEqual([]);
    // Only the wrong token's requests failed (and the page's first look whether a token is needed):
    // no favicon request answered 401 either.
    expect(seen.failedLoads.filter((l) => !/^401 \/(runs\?limit=\d+|pipelines)$/.test(l))).toEqual([]);
    await page.close();
  }, 60_000);

  it('shows a step run again by a resume with its new result, not its old error', async () => {
    writeFileSync(join(root, 'child.yaml'), CHILD);
    const page = await loggedIn();
    const seen = watch(page);
    await startRun(page, 'parent.yaml');
    writeFileSync(join(root, 'child.yaml'), 'name: child\nsteps: [oops\n');
    await page.waitForSelector('#run-status.failed');
    await page.waitForSelector('.step[data-step="sub"][data-status="failed"]');
    expect(await page.textContent('.step[data-step="sub"] .output')).toMatch(/YAML syntax error/);

    writeFileSync(join(root, 'child.yaml'), CHILD);
    await page.click('#resume-run');
    await page.waitForSelector('#run-status.succeeded');
    await page.waitForSelector('.step[data-step="sub"][data-status="succeeded"]');
    // The row is the re-run's: its output, not the error of the attempt before.
    await expect.poll(() => page.textContent('.step[data-step="sub"] .output')).toContain('bold');
    expect(await page.textContent('.step[data-step="sub"] .output')).not.toMatch(/YAML syntax error/);
    // Model output is shown as text, never run as markup.
    await expect.poll(() => page.textContent('.step[data-step="sub/inner"] .output')).toBe(MARKUP);
    await expect.poll(() => page.textContent('#run-outputs')).toContain(JSON.stringify(MARKUP));
    expect(await page.locator('.timeline img, .timeline b, #run-outputs img').count()).toBe(0);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it('shows no step still running once its run is cancelled', async () => {
    const page = await loggedIn();
    const seen = watch(page);
    await startRun(page, 'slow.yaml');
    await page.waitForSelector('.step[data-step="long"][data-status="running"]');
    await page.click('#cancel-run');
    await page.waitForSelector('#run-status.cancelled');
    await expect.poll(() => stepStatuses(page)).toEqual({ quick: 'succeeded', long: 'cancelled' });
    expect(await page.textContent('.step[data-step="long"] .status')).toBe('cancelled');
    expect(await page.isVisible('#resume-run')).toBe(true);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it('reconnects a dropped event stream with Last-Event-ID and shows every event once', async () => {
    const proxy = await startTcpProxy(serve.url);
    try {
      const page = await loggedIn(proxy.url);
      const seen = watch(page);
      const resumedFrom: string[] = [];
      page.on('request', (r) => {
        const id = r.headers()['last-event-id'];
        if (r.url().endsWith('/events') && id !== undefined) resumedFrom.push(id);
      });
      // The page hears no more once step `two` starts; the connection drops once it has shown step one.
      const held = proxy.holdWhenServerSends('"step":"two","type":"mock","index"');
      const runId = await startRun(page, 'streamed.yaml');
      const cut = await held;
      await page.waitForSelector('.step[data-step="one"][data-status="succeeded"]');
      expect(await page.locator('.step[data-step="two"]').count()).toBe(0);
      const lastSeen = Number(await page.textContent('#run-events'));
      await cut();

      await page.waitForSelector('#run-status.succeeded', { timeout: 15_000 });
      await expect.poll(() => stepStatuses(page)).toEqual({ one: 'succeeded', two: 'succeeded', three: 'succeeded' });
      // Streamed output, each chunk once.
      expect(await page.textContent('.step[data-step="one"] .output')).toBe('alpha beta gamma');
      expect(await page.textContent('.step[data-step="two"] .output')).toBe('delta epsilon zeta');
      expect(await page.textContent('.step[data-step="three"] .output')).toBe('eta theta iota');
      // Every event of the run counted once: as many as the journal holds.
      const journal = await fetch(`${serve.url}/runs/${runId}/events`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      }).then((r) => r.text());
      const ids = journal.split('\n').filter((l) => l.startsWith('id:'));
      await expect.poll(() => page.textContent('#run-events')).toBe(String(ids.length));
      // Asked for the events after the last one it had shown (every one so far had an id), by the id
      // the stream sent for it (SEQ@START-AT), not by its bare seq.
      expect(resumedFrom[0]).toBe(ids[lastSeen - 1]?.slice('id: '.length));
      expect(resumedFrom[0]).toMatch(new RegExp(`^${lastSeen}@1-[0-9]+$`));
      // The interruption was reported while it lasted, and is no longer.
      expect(await page.textContent('#error')).toBe('');
      expect(seen.errors).toEqual([]);
      await page.close();
    } finally {
      await proxy.close();
    }
  });

  it('keeps a long streamed answer to its tail instead of growing the page with it', async () => {
    const page = await loggedIn();
    const seen = watch(page);
    await startRun(page, 'long.yaml');
    // execution start and stop, step start and stop, provider request and response, and the chunks.
    await expect.poll(() => page.textContent('#run-events'), { timeout: 90_000 }).toBe(String(LONG_WORDS + 6));
    await page.waitForSelector('#run-status.succeeded');
    const output = (await page.textContent('.step[data-step="essay"] .output')) as string;
    expect(output.endsWith(`w${LONG_WORDS - 1}`)).toBe(true);
    expect(output.length).toBeLessThanOrEqual(4001);
    expect(output.startsWith('…')).toBe(true);
    expect(seen.errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('ignores a late answer about the run shown before', async () => {
    const api = (path: string, body?: unknown) =>
      fetch(`${serve.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }).then((r) => r.json() as Promise<{ run_id: string; status: string }>);
    const first = (await api('/runs', { file: 'slow.yaml', mock: true })).run_id;
    const second = (await api('/runs', { file: 'demo.yaml', mock: true })).run_id;
    await expect.poll(async () => (await api(`/runs/${second}`)).status, { timeout: 15_000 }).toBe('succeeded');

    const page = await loggedIn();
    // The page's first request for the first run is held until the second run is shown.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let heldOnce = false;
    await page.route(`**/runs/${first}`, async (route) => {
      if (!heldOnce) {
        heldOnce = true;
        await held;
      }
      await route.continue();
    });
    await page.goto(`${serve.url}/#/runs/${first}`);
    await page.waitForSelector('.step[data-step="long"][data-status="running"]');
    await page.goto(`${serve.url}/#/runs/${second}`);
    await page.waitForSelector('#run-status.succeeded');
    await expect.poll(() => page.textContent('#run-pipeline')).toBe('demo');
    // The first run's answer arrives now: it must not be shown as the second run's.
    const answered = page.waitForResponse((r) => r.url().endsWith(`/runs/${first}`));
    release();
    await answered;
    await page.evaluate('new Promise((resolve) => setTimeout(resolve, 0))');
    expect(await page.textContent('#run-pipeline')).toBe('demo');
    expect(await page.textContent('#run-status')).toBe('succeeded');
    await api(`/runs/${first}/cancel`, {});
    await page.close();
  });
});

describe.skipIf(!hasChromium)('dashboard of a server without a token', () => {
  let serve: ServeProcess;
  let browser: Browser;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'elexirion-dashboard-open-'));
    writeFileSync(join(root, 'demo.yaml'), DEMO);
    serve = await startServe(['--root', root, '--db', join(root, 'journal.db')], { ELEXIRION_LOG_LEVEL: 'warn' });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (serve) expect(await serve.stop()).toBe(0);
  });

  /** A fresh page of the server, once its own script has filled the pipeline list from the API. */
  async function opened(): Promise<{ page: Page; seen: ReturnType<typeof watch> }> {
    const page = await browser.newPage();
    const seen = watch(page);
    await page.goto(serve.url);
    await page.waitForSelector('#pipeline-select option[value="demo.yaml"]', { state: 'attached', timeout: 20_000 });
    return { page, seen };
  }

  it('does not ask for a token the server does not have', async () => {
    const { page, seen } = await opened();
    expect(await page.isVisible('#login')).toBe(false);
    expect(await page.isVisible('#logout')).toBe(false);
    await page.click('#start-run');
    await page.waitForSelector('#run-status.succeeded', { timeout: 15_000 });
    expect(seen.errors).toEqual([]);
    expect(seen.failedLoads).toEqual([]);
    await page.close();
  }, 60_000);

  it('runs its own script but no script or handler injected into the page (CSP)', async () => {
    const { page, seen } = await opened();
    expect(seen.errors).toEqual([]);
    // As a string: the page's code runs in the browser (this project compiles without the DOM types).
    const injected = (await page.evaluate(`(async () => {
      const violations = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
      const script = document.createElement('script');
      script.textContent = 'window.injectedScriptRan = true';
      document.body.append(script);
      const holder = document.createElement('div');
      holder.innerHTML = '<img src="data:," onerror="window.injectedHandlerRan = true">';
      document.body.append(holder);
      await new Promise((r) => setTimeout(r, 200));
      return { script: window.injectedScriptRan === true, handler: window.injectedHandlerRan === true, violations };
    })()`)) as { script: boolean; handler: boolean; violations: string[] };
    expect(injected.script).toBe(false);
    expect(injected.handler).toBe(false);
    expect(injected.violations).toContain('script-src-elem');
    await page.close();
  }, 60_000);
});
