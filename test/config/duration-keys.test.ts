// The keys that take a duration are read from the schema (duration-keys.ts), not listed by hand:
// a duration field added to the schema gets the duration hint for a bad number at once, and the
// docs' list of duration keys must name exactly those.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { durationKeysOf, pipelineDurationKeys } from '../../src/config/duration-keys.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { Duration, TimerDuration } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';

describe('duration keys', () => {
  it('finds a duration field wherever a schema has one: optional, in a list, a record, a union, a lazy', () => {
    const Inner = z.strictObject({ poll_every: Duration.default('1s') });
    const Lazy: z.ZodType = z.lazy(() =>
      z.strictObject({ deep_wait: TimerDuration.optional(), again: Lazy.optional() }),
    );
    const schema = z.strictObject({
      new_wait: TimerDuration.optional(),
      count: z.number().optional(),
      list: z.array(Inner),
      map: z.record(z.string(), z.union([z.boolean(), z.strictObject({ grace: Duration.nullable() })])),
      lazy: Lazy,
    });
    expect([...durationKeysOf(schema)].sort()).toEqual(['deep_wait', 'grace', 'new_wait', 'poll_every']);
  });

  it('are, for a pipeline, the keys docs/pipeline-format.md#durations lists', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../docs/pipeline-format.md'), 'utf8');
    const section = /## Durations\n\n([\s\S]*?) take a duration/.exec(doc)?.[1] ?? '';
    const documented = [...section.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    expect(documented.length).toBeGreaterThan(0);
    expect([...pipelineDurationKeys()].sort()).toEqual(documented.sort());
  });

  it('every one of them gets the duration hint for a number that is not whole', () => {
    const settings: Record<string, string> = {
      timeout: 'timeout: 1.5',
      latency: 'latency: 1.5',
      base_delay: 'retry: { base_delay: 1.5 }',
      max_delay: 'retry: { max_delay: 1.5 }',
      ttl: 'cache: { ttl: 1.5 }',
    };
    const providerSettings: Record<string, string> = {
      recovery_timeout: 'circuit_breaker: { recovery_timeout: 1.5 }',
    };
    const hints = [...pipelineDurationKeys()].map((key) => {
      const step = settings[key];
      const provider = providerSettings[key];
      const source = step
        ? `name: p\nsteps:\n  - { name: a, type: mock, prompt: hi, ${step} }\n`
        : `name: p\nproviders:\n  mock: { ${provider} }\nsteps:\n  - { name: a, type: mock, prompt: hi }\n`;
      try {
        loadPipelineFromString(source, 'p.yaml');
      } catch (error) {
        if (error instanceof ConfigError) return [key, error.diagnostics[0]?.hint];
        throw error;
      }
      return [key, 'accepted'];
    });
    const hint = 'a number and a unit with no space (250ms, 30s, 5m, 1h), or a number of milliseconds';
    expect(Object.fromEntries(hints)).toEqual(Object.fromEntries([...pipelineDurationKeys()].map((k) => [k, hint])));
  });
});
