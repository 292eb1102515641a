// resumeChain adopts a link's run that was created but not recorded in the chain (killed in
// between) and records it before running it: if that link then fails, the next resumeChain
// resumes the same run instead of starting the link afresh and paying its steps again.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { chain, resumeChain } from '../../src/chain/chain.js';
import { createHarness, type Harness } from '../engine/batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const extract = JSON.stringify({
  name: 'extract',
  inputs: { topic: { type: 'string', required: true } },
  steps: [{ name: 'facts', type: 'mock', prompt: 'facts about {{ topic }}', response: 'facts({{ topic }})' }],
  outputs: { facts: '{{ steps.facts.output }}' },
});
const summarize = JSON.stringify({
  name: 'summarize',
  inputs: { facts: { type: 'string', required: true } },
  steps: [
    { name: 'summary', type: 'mock', prompt: 'summarize {{ facts }}', response: 'summary[{{ facts }}]' },
    { name: 'flaky', type: 'mock', prompt: 'flaky', fail_first: 1, retry: { max_attempts: 1 } },
  ],
  outputs: { summary: '{{ steps.summary.output }}' },
});

it('an adopted orphan link that then fails is resumed by the next resumeChain, not run again', async () => {
  const files = [h.write('a.yaml', extract), h.write('b.yaml', summarize)];
  const updateRun = h.store.updateRun.bind(h.store);
  let failChainWrite = false;
  h.store.updateRun = async (id, patch) => {
    if (failChainWrite && patch.metadata?.chain !== undefined) {
      failChainWrite = false;
      throw new Error('journal write failed');
    }
    return updateRun(id, patch);
  };
  const onLink = (event: { phase: string; link: number }) => {
    if (event.phase === 'end' && event.link === 1) failChainWrite = true;
  };
  await expect(chain(files, { engine: h.engine, mock: true, inputs: { topic: 'otters' }, onLink })).rejects.toThrow(
    /journal write failed/,
  );
  await h.engine.drain();
  const chainId = (await h.store.listRuns()).find((r) => r.pipelineName === 'extract')?.id as string;

  const first = await resumeChain(chainId, { engine: h.engine });
  expect(first.status).toBe('failed'); // link 2 (the adopted orphan) failed at `flaky`
  expect(first.failed_link).toBe(2);
  const adopted = first.links[1]?.run_id;

  const second = await resumeChain(chainId, { engine: h.engine });
  expect(second.status).toBe('succeeded');
  // ...so `summary` was paid for once.
  expect(h.mock.prompts.filter((p) => p.startsWith('summarize'))).toHaveLength(1);
  // The adopted run should have been resumed (its `summary` step taken from the journal).
  expect(second.links[1]?.run_id).toBe(adopted);
});
