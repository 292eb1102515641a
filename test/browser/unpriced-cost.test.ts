// A run whose calls went to a model in no price table has no known cost: the dashboard says `$?`
// (or the known part `+ ?`), as the CLI does — not `$0.000000`, an amount it does not know. In
// headless Chromium, against the service started in-process (as run-page.test.ts); the runs are
// journaled as a run with unpriced calls leaves them.
// Needs Debian's chromium at /usr/bin/chromium (CI installs it).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { emptyTotals, type RunTotals } from '../../src/journal/store.js';
import { type Service, startService } from '../../src/server/service.js';
import { chromiumFor, launchChromium } from './chromium.js';

const hasChromium = chromiumFor('the dashboard cost test');

describe.skipIf(!hasChromium)('dashboard: the cost of a run with calls of unknown price', () => {
  let store: SqliteStore;
  let service: Service;
  let browser: Browser;

  /** A finished run of one step journaled with `totals`; the step's cost as given (null: unknown). */
  async function journaled(id: string, totals: Partial<RunTotals>, stepCost: number | null): Promise<void> {
    const at = Date.now();
    await store.createRun({
      id,
      pipelineName: 'local-model',
      pipelineHash: 'h',
      pipeline: { name: 'local-model', steps: [{ name: 'ask', type: 'llm', provider: 'local', prompt: 'hi' }] },
      inputs: {},
      status: 'running',
      startedAt: at,
      totals: emptyTotals(),
      metadata: {},
    });
    const usage = { inputTokens: 10, outputTokens: 5 };
    await store.commitStep(
      {
        runId: id,
        key: 'ask',
        name: 'ask',
        type: 'llm',
        status: 'succeeded',
        output: 'hello',
        usage,
        costUsd: stepCost,
        durationMs: 5,
        attempts: 1,
        startedAt: at,
        finishedAt: at + 5,
      },
      [],
    );
    await store.updateRun(id, { status: 'succeeded', finishedAt: at + 5, totals: { ...emptyTotals(), ...totals } });
  }

  beforeAll(async () => {
    store = new SqliteStore(':memory:');
    await journaled(
      '01UNPRICED0000000000000000',
      { inputTokens: 10, outputTokens: 5, calls: 1, unpricedCalls: 1 },
      null,
    );
    await journaled(
      '01PARTPRICED00000000000000',
      { inputTokens: 10, outputTokens: 5, calls: 2, unpricedCalls: 1, costUsd: 0.25 },
      0.25,
    );
    service = await startService({ store, root: mkdtempSync(join(tmpdir(), 'elexirion-cost-')), port: 0, env: {} });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.shutdown(1000);
    await store?.close();
  });

  it('shows $? in the runs list and on the run’s page, and the known part + ?', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(service.url);
    const costOf = (id: string) => page.locator(`tr[data-run="${id}"] td:last-child`);
    await expect.poll(() => costOf('01UNPRICED0000000000000000').textContent()).toBe('$?');
    expect(await costOf('01UNPRICED0000000000000000').getAttribute('title')).toBe('1 call(s) of unknown price');
    expect(await costOf('01PARTPRICED00000000000000').textContent()).toBe('$0.2500 + ?');

    await page.goto(`${service.url}/#/runs/01UNPRICED0000000000000000`);
    await page.waitForSelector('#run-status.succeeded');
    await expect.poll(() => page.textContent('#run-cost')).toBe('$?');
    expect(await page.textContent('.step[data-step="ask"] > :last-child')).toBe('unknown');
    expect(errors).toEqual([]);
    await page.close();
  }, 40_000);
});
