// A failure the caller cannot fix (the journal down, a bug) answers 500 with nothing of its
// internals — and the hint says "the server log has the details": so the log must have them.
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { startHarness, TOKEN } from './harness.js';

describe('an internal error', () => {
  it('answers a bare 500 and logs what happened (redacted) for the operator', async () => {
    const secret = 'sk-live-secret-0123456789';
    const store = new SqliteStore(':memory:');
    store.listRuns = async () => {
      throw new Error(`database is locked (connection with password ${secret})`);
    };
    const lines: string[] = [];
    const env = { ELEXIRION_TOKEN: TOKEN, OPENAI_API_KEY: secret };
    const logger = createLogger({ destination: { write: (line: string) => lines.push(line) }, env });
    const h = await startHarness({ store, env, logger });
    try {
      const response = await h.call('/runs');
      expect(response.status).toBe(500);
      const body = await response.text();
      expect(body).not.toContain('database is locked');
      expect(body).toContain('the server log has the details');

      const logged = lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((l) => l.level === 'error');
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ method: 'GET', path: '/runs', status: 500 });
      expect(JSON.stringify(logged[0])).toContain('database is locked');
      expect(lines.join('\n')).not.toContain(secret);
    } finally {
      await h.close();
      await store.close();
    }
  });
});
