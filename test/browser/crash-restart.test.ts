// The run's page following a run whose execution crashes mid-step (its journal refused a commit) and
// is restarted from the journal. The crashed execution sent live events it never journaled; the
// restart reuses their seqs, its ids going back at its `pipeline.execution.start`. The page used to
// drop every event at or below the last seq it had seen (the restart's steps were not shown until the
// run ended), and to reconnect with that bare seq, which skips the restart's events at reused seqs.
// In headless Chromium, against the service started in-process (as run-page.test.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { EventRecord, StepRecord } from '../../src/journal/store.js';
import { type Service, startService } from '../../src/server/service.js';
import { parseSse } from '../server/harness.js';
import { chromiumFor, launchChromium } from './chromium.js';
import { startTcpProxy } from './tcp-proxy.js';

const hasChromium = chromiumFor('the dashboard crash-restart test');

/**
 * Refuses each run's first commit of step `second`: the run crashes there and restarts. Holds the
 * commit of `first` until `follow()`'s release: the page is following before the crash, else the
 * test would pass without ever seeing a crashed execution.
 */
class CrashingStore extends SqliteStore {
  private readonly crashed = new Set<string>();
  private held: Promise<void> = Promise.resolve();
  hold(): () => void {
    let release = (): void => {};
    this.held = new Promise<void>((resolve) => {
      release = resolve;
    });
    return release;
  }
  override async commitStep(step: StepRecord, events: EventRecord[] = []): Promise<void> {
    if (step.key === 'first') await this.held;
    if (step.key === 'second' && !this.crashed.has(step.runId)) {
      this.crashed.add(step.runId);
      throw new Error('disk full for a moment');
    }
    return super.commitStep(step, events);
  }
}

// The restart takes `second`'s answer from the call cache (one chunk): fewer seqs than the crashed
// execution used, so `third` starts at a seq the crashed execution had sent. `third` is slow: the
// page is looked at while it runs, before the run's end reloads everything from the journal. Each
// run's prompts name the run (`tag`): a run must not take an earlier run's answers from the cache.
const CRASHY = `name: crashy
inputs:
  tag: { type: string }
steps:
  - { name: first, type: mock, prompt: "first {{ tag }}", response: "alpha" }
  - { name: second, type: mock, prompt: "second {{ tag }}", response: "one two three four five six seven" }
  - { name: third, type: mock, prompt: "third {{ tag }}", response: "done", latency: 6s }
`;

type Sse = ReturnType<typeof parseSse>[number];

describe.skipIf(!hasChromium)('dashboard: a run restarted after a crash', () => {
  let store: CrashingStore;
  let service: Service;
  let browser: Browser;
  let runs = 0;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'elexirion-crash-restart-'));
    writeFileSync(join(root, 'crashy.yaml'), CRASHY);
    store = new CrashingStore(':memory:');
    service = await startService({ store, root, port: 0, env: {} }); // no token: loopback only
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.shutdown(1000);
    await store?.close();
  });

  /**
   * Starts a run held before its first commit, opens its page at `base`, and lets the run go once
   * the page shows step `first` live. Returns the page and the stream as a client that stays
   * connected reads it.
   */
  async function follow(
    base: string,
  ): Promise<{ runId: string; page: Page; errors: string[]; stream: Promise<Sse[]> }> {
    const release = store.hold();
    const res = await fetch(`${service.url}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ file: 'crashy.yaml', mock: true, stream: true, inputs: { tag: String(++runs) } }),
    });
    expect(res.status).toBe(202);
    const { run_id: runId } = (await res.json()) as { run_id: string };
    const stream = fetch(`${service.url}/runs/${runId}/events`).then(async (r) => parseSse(await r.text()));
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/#/runs/${runId}`);
    await page.waitForSelector('.step[data-step="first"]');
    release();
    return { runId, page, errors, stream };
  }

  /** While `third` runs, the page shows the restarted execution: `second` done, `third` running. */
  async function showsRestart(page: Page): Promise<void> {
    // Well within `third`'s 6 s: the old page showed it only from its chunks, at its end.
    await page.waitForSelector('.step[data-step="third"][data-status="running"]', { timeout: 3_000 });
    expect(await page.getAttribute('.step[data-step="second"]', 'data-status')).toBe('succeeded');
    expect(await page.textContent('.step[data-step="second"] .output')).toBe('one two three four five six seven');
    expect(await page.textContent('#run-status')).toBe('running');
  }

  it('shows the restarted execution’s steps live, and counts each event once', async () => {
    const { runId, page, errors, stream } = await follow(service.url);
    await showsRestart(page);
    await page.waitForSelector('#run-status.succeeded', { timeout: 15_000 });
    const events = await stream;
    // The page's count is the journal's events, plus the steps the restart announced from it.
    const restart = events.findLastIndex((e) => e.event === 'pipeline.execution.start');
    expect(events[restart]?.data).toMatchObject({ data: { resumed: true } });
    const announced = events.slice(restart).filter((e) => e.id === undefined).length;
    const journal = await store.getEvents(runId, 0, 10_000);
    await expect.poll(() => page.textContent('#run-events')).toBe(String(journal.length + announced));
    expect(await page.textContent('.step[data-step="third"] .output')).toBe('done');
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  it('reconnects with the id it last received, and is sent the restart from its start', async () => {
    const proxy = await startTcpProxy(service.url);
    try {
      // The page hears nothing of the restart: its connection drops right before its start.
      const held = proxy.holdWhenServerSends('"resumed":true');
      const { page, errors, stream } = await follow(proxy.url);
      const resumedFrom: string[] = [];
      page.on('request', (r) => {
        const id = r.headers()['last-event-id'];
        if (r.url().endsWith('/events') && id !== undefined) resumedFrom.push(id);
      });
      const cut = await held;
      await cut();
      await showsRestart(page);
      await page.waitForSelector('#run-status.succeeded', { timeout: 15_000 });
      // The id of the crashed execution's last event, naming its execution — not its bare seq.
      const events = await stream;
      const restart = events.findLastIndex((e) => e.event === 'pipeline.execution.start');
      const lastHeard = events.slice(0, restart).findLast((e) => e.id !== undefined) as Sse;
      expect(lastHeard.id).toMatch(/^[0-9]+@1-[0-9]+$/);
      expect(resumedFrom[0]).toBe(lastHeard.id);
      expect(await page.textContent('#error')).toBe('');
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await proxy.close();
    }
  }, 30_000);
});
