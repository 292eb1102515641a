// The three vendor fakes started for a test file, their URLs and keys as the environment the engine
// reads, reset before each test and stopped (with the connection pools) after the file.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { closePools } from '../../src/resilience/connection-pool.js';
import type { FakeServer } from '../fakes/index.js';

export interface FakeVendors {
  /** The engine's environment: each vendor's base URL and a key (set once the fakes started). */
  readonly env: Record<string, string>;
}

export function useFakeVendors(fakes: { anthropic: FakeServer; gemini: FakeServer; openai: FakeServer }): FakeVendors {
  const vendors = { env: {} as Record<string, string> };
  beforeAll(async () => {
    vendors.env = {
      ANTHROPIC_BASE_URL: await fakes.anthropic.start(),
      ANTHROPIC_API_KEY: 'fake-anthropic-key',
      GOOGLE_GEMINI_BASE_URL: await fakes.gemini.start(),
      GEMINI_API_KEY: 'fake-gemini-key',
      OPENAI_BASE_URL: `${await fakes.openai.start()}/v1`,
      OPENAI_API_KEY: 'fake-openai-key',
    };
  });
  afterAll(async () => {
    await Promise.all([fakes.anthropic.stop(), fakes.gemini.stop(), fakes.openai.stop()]);
    await closePools();
  });
  beforeEach(() => {
    for (const fake of [fakes.anthropic, fakes.gemini, fakes.openai]) fake.reset();
  });
  return vendors;
}
