// An older Elexirion (items without `calls`) was killed mid-batch; the new one resumes it.
// The old items' calls must still be counted (each made one call at least).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { countingEngine } from './batch-harness.js';

it('counts the calls of items an older version journaled, when a new version resumes the batch', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'elexirion-old-items-'));
  const db = join(dir, 'j.db');
  const file = join(dir, 'p.yaml');
  writeFileSync(
    file,
    `name: p
steps:
  - name: b
    type: batch
    max_parallel: 1
    items: ["a", "b", "sleep 300", "sleep 300"]
    step_template: { type: mock, prompt: "{{ item }}" }
`,
  );
  const first = countingEngine(db);
  const handle = await first.engine.start(await loadPipeline(file), { mock: true });
  // Wait until the two quick items are journaled, then stop (Ctrl-C): no batch row.
  for (let i = 0; i < 100; i++) {
    const c = await first.store.countItems(handle.runId, 'b');
    if (c.succeeded >= 2) break;
    await sleep(20);
  }
  handle.stop('interrupted');
  const r1 = await handle.result;
  expect(r1.status).toBe('interrupted');
  await first.engine.drain();
  await first.store.close();

  // What an Elexirion before migration 8 would have left: items without calls.
  const raw = new Database(db);
  raw.prepare('UPDATE items SET calls = NULL').run();
  expect(raw.prepare('SELECT count(*) FROM items').pluck().get()).toBe(2);
  raw.close();

  const second = countingEngine(db);
  const r2 = await (await second.engine.resume(handle.runId)).result;
  expect(r2.status).toBe('succeeded');
  expect(second.mock.prompts.length).toBe(2); // the two sleeping items ran now
  // 2 calls by the old version (one each at least) + 2 now.
  expect(r2.totals.calls).toBe(4);
  await second.engine.drain();
  await second.store.close();
  rmSync(dir, { recursive: true, force: true });
});
