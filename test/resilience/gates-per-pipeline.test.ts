// Two pipelines in one engine declare the same provider with different limits: each run is held to
// its own pipeline's max_concurrency, whichever started first (src/resilience/gate-registry.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';
import { createHarness, type Harness } from '../engine/batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const pipeline = (name: string, slots: number) =>
  JSON.stringify({
    name,
    providers: { mock: { max_concurrency: slots } },
    inputs: { things: { type: 'array', default: [] } },
    steps: [
      {
        name: 'each',
        type: 'batch',
        items: '{{ things }}',
        max_parallel: 6,
        step_template: { type: 'mock', prompt: `sleep 25 ${name} {{ item }}` },
      },
    ],
  });

describe('one engine, two pipelines declaring the same provider differently', () => {
  it('holds each run to its own pipeline’s max_concurrency', async () => {
    const inFlight = new Map<string, number>();
    const peak = new Map<string, number>();
    const generate = h.mock.generate.bind(h.mock);
    h.mock.generate = async (request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> => {
      const who = /sleep \d+ (\w+)/.exec(String(request.messages[0]?.content))?.[1] ?? '?';
      inFlight.set(who, (inFlight.get(who) ?? 0) + 1);
      peak.set(who, Math.max(peak.get(who) ?? 0, inFlight.get(who) ?? 0));
      try {
        return await generate(request, signal);
      } finally {
        inFlight.set(who, (inFlight.get(who) ?? 0) - 1);
      }
    };
    const things = Array.from({ length: 6 }, (_, i) => `x${i}`);
    const narrow = h.run(h.write('narrow.yaml', pipeline('narrow', 1)), { things });
    await sleep(5); // the narrow pipeline builds its gate first
    const wide = h.run(h.write('wide.yaml', pipeline('wide', 3)), { things });
    expect((await narrow).status).toBe('succeeded');
    expect((await wide).status).toBe('succeeded');
    expect(peak.get('narrow')).toBe(1);
    expect(peak.get('wide')).toBe(3);
  });
});
