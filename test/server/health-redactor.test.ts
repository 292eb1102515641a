// GET /health redacts a failing check's error (it needs no token) with the service's one redactor,
// of the service's environment — not one built anew, from the environment, on every failing probe.
// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are asserted on, not typed
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as redaction from '../../src/telemetry/redact.js';
import { type Harness, startHarness, TOKEN } from './harness.js';

vi.mock('../../src/telemetry/redact.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/telemetry/redact.js')>();
  return { ...actual, createRedactor: vi.fn(actual.createRedactor) };
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('GET /health with a failing journal', () => {
  it("redacts the error with the service's redactor, built once", async () => {
    const SECRET = 'journal-password-8Hq2xL';
    h = await startHarness({ env: { ELEXIRION_TOKEN: TOKEN, JOURNAL_PASSWORD: SECRET } });
    const built = vi.mocked(redaction.createRedactor).mock.calls.length;
    h.store.listRuns = () => Promise.reject(new Error(`cannot log in with ${SECRET}`));
    for (let i = 0; i < 3; i++) {
      const res = await h.call('/health', { auth: false });
      expect(res.status).toBe(503);
      const body = (await res.json()) as any;
      expect(body.checks.database.status).toBe('fail');
      expect(body.checks.database.error).toContain(redaction.REDACTED);
      expect(body.checks.database.error).not.toContain(SECRET);
    }
    expect(vi.mocked(redaction.createRedactor).mock.calls.length).toBe(built);
  });
});
