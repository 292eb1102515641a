// SIGTERM on a real `elexirion serve` process: in-flight runs end `interrupted` (resumable), the
// process exits 0, and another server on the same journal resumes the run to success.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { startServe } from '../browser/serve-process.js';
import { slowPipeline } from './harness.js';

const TOKEN = 'sigterm-test-token';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

describe('elexirion serve and SIGTERM', () => {
  it('interrupts in-flight runs to a resumable state, exits 0, and the run resumes later', async () => {
    const root = mkdtempSync(join(tmpdir(), 'elexirion-sigterm-'));
    writeFileSync(join(root, 'slow.yaml'), slowPipeline('800ms'));
    const db = join(root, 'journal.db');
    const args = ['--root', root, '--db', db, '--grace', '5'];
    const env = { ELEXIRION_TOKEN: TOKEN, ELEXIRION_LOG_LEVEL: 'info' };

    const first = await startServe(args, env);
    const submitted = await fetch(`${first.url}/runs`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ file: 'slow.yaml', mock: true }),
    });
    const { run_id } = (await submitted.json()) as { run_id: string };
    await new Promise((r) => setTimeout(r, 1200)); // the first step is done, the second in flight
    const started = Date.now();
    expect(await first.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(first.stderr()).toMatch(/"interrupted":1/);

    const store = new SqliteStore(db);
    const run = await store.getRun(run_id);
    expect(run?.status).toBe('interrupted');
    expect((await store.getSteps(run_id)).map((s) => s.name)).toEqual(['outline']);
    await store.close();

    const second = await startServe(args, env);
    try {
      const resumed = await fetch(`${second.url}/runs/${run_id}/resume`, { method: 'POST', headers: auth });
      expect(resumed.status).toBe(202);
      const events = await (await fetch(`${second.url}/runs/${run_id}/events`, { headers: auth })).text();
      expect(events).toMatch(/event: pipeline\.execution\.stop\n/);
      const result = (await (await fetch(`${second.url}/runs/${run_id}`, { headers: auth })).json()) as {
        status: string;
        steps: { name: string; attempts: number }[];
      };
      expect(result.status).toBe('succeeded');
      expect(result.steps.map((s) => s.name)).toEqual(['outline', 'draft', 'polish']);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  }, 30_000);
});
