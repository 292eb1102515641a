// docs/observability.md draws the spans and their attributes: a collector's queries and dashboards
// are written from it, so it names exactly the attributes tracing.ts sets — no fewer, no other.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ELEXIRION, GEN_AI } from '../../src/telemetry/genai-attributes.js';

const doc = readFileSync(join(import.meta.dirname, '../../docs/observability.md'), 'utf8');

it('the span tree of docs/observability.md names every attribute the spans carry, and no other', () => {
  const tree = /One trace per run:\n\n```\n([\s\S]*?)```/.exec(doc)?.[1];
  expect(tree).toBeDefined();
  const documented = new Set((tree ?? '').match(/\b(?:gen_ai|elexirion)\.[a-z_.]*[a-z_]/g));
  const emitted = new Set([...Object.values(GEN_AI), ...Object.values(ELEXIRION)]);
  expect([...documented].sort()).toEqual([...emitted].sort());
});
