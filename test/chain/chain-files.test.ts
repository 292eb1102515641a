// Chains whose files change, or whose outputs are named like Object.prototype's members: a link
// runs the document it was planned with, a fixed link runs again with --force, and only inputs a
// link declares are passed to it.
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chain, resumeChain } from '../../src/chain/chain.js';
import { createHarness, type Harness } from '../engine/batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const first = JSON.stringify({
  name: 'first',
  steps: [{ name: 'a', type: 'mock', prompt: 'a', response: 'A' }],
  outputs: { text: '{{ steps.a.output }}' },
});
const second = (prompt: string, flaky = false) =>
  JSON.stringify({
    name: 'second',
    inputs: { text: { type: 'string', required: true } },
    steps: [
      {
        name: 'b',
        type: 'mock',
        prompt,
        response: 'B[{{ text }}]',
        ...(flaky ? { fail_first: 5, retry: { max_attempts: 1 } } : {}),
      },
    ],
    outputs: { final: '{{ steps.b.output }}' },
  });

describe('chain', () => {
  it('a later link whose file is edited while an earlier link runs: the chain neither crashes nor strands a run', async () => {
    const a = h.write('a.yaml', first);
    const b = h.write('b.yaml', second('b {{ text }}'));
    const outcome = await chain([a, b], {
      engine: h.engine,
      mock: true,
      // Someone edits b.yaml while link 1 runs (a long chain; a fix for a later link).
      onLink: (e) => {
        if (e.link === 1 && e.phase === 'start') writeFileSync(b, second('b, edited: {{ text }}'));
      },
    }).then(
      (r) => ({ result: r, error: undefined }),
      (error: Error) => ({ result: undefined, error }),
    );
    // It was refused as a resume of a changed pipeline (a link that never ran was started through
    // engine.resume), exit 2 in the CLI, with link 2's run left `running` and ownerless.
    expect(outcome.error?.message).toBeUndefined();
    expect(outcome.result?.status).toBe('succeeded');
    const runs = await h.store.listRuns();
    expect(runs.filter((r) => r.status === 'running')).toEqual([]);
  });

  it('chain --resume --force after fixing the file of the link that failed', async () => {
    const a = h.write('a.yaml', first);
    const b = h.write('b.yaml', second('b {{ text }}', true));
    const failed = await chain([a, b], { engine: h.engine, mock: true });
    expect(failed.status).toBe('failed');
    writeFileSync(b, second('b {{ text }}')); // the fix
    // Without force the changed file is refused, as `elexirion resume` refuses a changed pipeline…
    await expect(resumeChain(failed.chain_id, { engine: h.engine })).rejects.toThrow(/changed since/);
    // …and with it the fixed link runs (there was no way to ask for it before).
    const resumed = await resumeChain(failed.chain_id, { engine: h.engine, force: true });
    expect(resumed.status).toBe('succeeded');
    expect(resumed.outputs).toEqual({ final: 'B[A]' });
  });

  it('an output named `constructor` that the next link does not declare is not passed on', async () => {
    const a = h.write(
      'a.yaml',
      JSON.stringify({
        name: 'first',
        steps: [{ name: 'a', type: 'mock', prompt: 'a', response: 'A' }],
        outputs: { text: '{{ steps.a.output }}', constructor: 'metadata' },
      }),
    );
    const b = h.write('b.yaml', second('b {{ text }}'));
    const result = await chain([a, b], { engine: h.engine, mock: true });
    // It failed: 'link 2 of 2 (b.yaml) could not start: … unknown input "constructor"' (linkInputs
    // tested `name in declared`, which finds Object.prototype.constructor).
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('succeeded');
  });
});
