import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chain, resumeChain } from '../../src/chain/chain.js';
import { loadPipeline } from '../../src/config/loader.js';
import { ElexirionError, ExitCode, UsageError } from '../../src/errors.js';
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
  outputs: { facts: '{{ steps.facts.output }}', unused: 'not declared downstream' },
});
const summarize = (flaky = false) =>
  JSON.stringify({
    name: 'summarize',
    inputs: { facts: { type: 'string', required: true }, style: { type: 'string', default: 'plain' } },
    steps: [
      {
        name: 'summary',
        type: 'mock',
        prompt: 'summarize {{ facts }} in {{ style }}',
        response: 'summary[{{ facts }}|{{ style }}]',
        ...(flaky ? { fail_first: 1, retry: { max_attempts: 1 } } : {}),
      },
    ],
    outputs: { summary: '{{ steps.summary.output }}' },
  });
const publish = JSON.stringify({
  name: 'publish',
  inputs: { summary: { type: 'string', required: true } },
  steps: [{ name: 'post', type: 'mock', prompt: 'post {{ summary }}', response: 'posted {{ summary }}' }],
  outputs: { posted: '{{ steps.post.output }}' },
});

// A run-time problem (an inline child's input of the wrong type) whose diagnostic has a position.
const misfit = [
  'name: link',
  'steps:',
  '  - { name: count_words, type: mock, prompt: "count", response: "three" }',
  '  - name: child',
  '    type: pipeline',
  '    inputs: { count: "{{ steps.count_words.output }}" }',
  '    pipeline:',
  '      name: inner',
  '      inputs:',
  '        count: { type: integer, required: true }',
  '      steps:',
  '        - { name: use, type: mock, prompt: "{{ count }}" }',
  '',
].join('\n');

describe('chain: positions of run-time diagnostics', () => {
  it("are the link file's, as `run` reports them (not the stored JSON document's)", async () => {
    const file = h.write('p.yaml', misfit);
    const run = await h.run(file);
    // At the parent's value (line 6), the child's declaration (line 10) beside it.
    const place = /p\.yaml:6:22: input "count" must be integer.*declares it at \S*p\.yaml:10:16\)/;
    expect(run.error).toMatch(place);
    const result = await chain([file], { engine: h.engine, mock: true });
    expect(result.status).toBe('failed');
    // Was `p.yaml:1:229`: a column of the one-line JSON the journal keeps, under the YAML file's name.
    expect(result.error).toMatch(place);
  });

  it('of a link whose file changed since it was planned: the file named, no line and column', async () => {
    const file = h.write('p.yaml', misfit);
    const created = await h.engine.create(await loadPipeline(file), { mock: true });
    h.write('p.yaml', misfit.replace('name: link', 'name: link\ndescription: edited')); // not the run's document
    const result = await (await h.engine.resume(created.id, { fromJournal: true, pipeline: await loadPipeline(file) }))
      .result;
    expect(result.status).toBe('failed');
    expect(result.error).toContain(`${file}: input "count" must be integer`);
  });

  it("of a run from the journal's document only (a cluster worker): the file named, no line and column", async () => {
    const file = h.write('p.yaml', misfit);
    const created = await h.engine.create(await loadPipeline(file), { mock: true });
    const result = await (await h.engine.resume(created.id, { fromJournal: true })).result;
    expect(result.status).toBe('failed');
    // Was `p.yaml:1:229: …`: a column of the one-line JSON text, a wrong place in p.yaml.
    expect(result.error).toContain(`${file}: input "count" must be integer`);
  });
});

describe('chain', () => {
  it("feeds each link's outputs to the next link's declared inputs", async () => {
    const files = [h.write('a.yaml', extract), h.write('b.yaml', summarize()), h.write('c.yaml', publish)];
    const result = await chain(files, { engine: h.engine, mock: true, inputs: { topic: 'otters', style: 'haiku' } });
    expect(result.status).toBe('succeeded');
    expect(result.outputs).toEqual({ posted: 'posted summary[facts(otters)|haiku]' });
    expect(result.links.map((l) => l.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(result.chain_id).toBe(result.links[0]?.run_id);
    // `unused` is not declared by summarize: not passed on (resolveInputs would refuse it).
    const second = await h.store.getRun(result.links[1]?.run_id as string);
    expect(second?.inputs).toEqual({ facts: 'facts(otters)', style: 'haiku' });
    expect(second?.metadata.chain).toMatchObject({ id: result.chain_id, link: 2, of: 3 });
  });

  it('a stop between two links (no run active) ends the chain before the next one, resumable', async () => {
    const files = [h.write('a.yaml', extract), h.write('b.yaml', summarize()), h.write('c.yaml', publish)];
    const stop = new AbortController();
    const result = await chain(files, {
      engine: h.engine,
      mock: true,
      inputs: { topic: 'otters' },
      signal: stop.signal,
      onLink: (event) => {
        if (event.phase === 'end' && event.link === 1) stop.abort(); // as Ctrl-C would, right then
      },
    });
    expect(result.status).toBe('interrupted');
    expect(result.failed_link).toBe(2);
    expect(result.error).toMatch(/interrupted before link 2 of 3/);
    expect((await h.store.listRuns()).length).toBe(1); // link 2 never started
    const resumed = await resumeChain(result.chain_id, { engine: h.engine });
    expect(resumed.status).toBe('succeeded');
    expect(resumed.outputs).toEqual({ posted: 'posted summary[facts(otters)|plain]' });
  });

  it('halts on the first failure and names the link, then resumes it and runs the rest', async () => {
    const files = [h.write('a.yaml', extract), h.write('b.yaml', summarize(true)), h.write('c.yaml', publish)];
    const failed = await chain(files, { engine: h.engine, mock: true, inputs: { topic: 'otters' } });
    expect(failed.status).toBe('failed');
    expect(failed.failed_link).toBe(2);
    expect(failed.error).toMatch(/^link 2 of 3 \(b\.yaml\) failed at step summary: /);
    expect(failed.links).toHaveLength(2); // link 3 never started
    expect(await h.store.listRuns()).toHaveLength(2);

    const resumed = await resumeChain(failed.chain_id, { engine: h.engine });
    expect(resumed.status).toBe('succeeded');
    expect(resumed.outputs).toEqual({ posted: 'posted summary[facts(otters)|plain]' });
    // Link 1 came from the journal; link 2 is the same run, resumed; link 3 is new.
    expect(resumed.links.slice(0, 2).map((l) => l.run_id)).toEqual(failed.links.map((l) => l.run_id));
    expect(h.mock.prompts.filter((p) => p === 'facts about otters')).toHaveLength(1);
    expect(await h.store.listRuns()).toHaveLength(3);
  });

  it('refuses before running anything a link whose required input the previous link does not output', async () => {
    const files = [h.write('a.yaml', extract), h.write('c.yaml', publish)];
    const error = await chain(files, { engine: h.engine, mock: true, inputs: { topic: 'x' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      'link 2 of 2 (c.yaml) requires input "summary", which link 1 of 2 (a.yaml) does not output',
    );
    expect(await h.store.listRuns()).toHaveLength(0);
  });

  it('refuses before running anything a later link whose claude_code executable is missing (exit 2, naming it)', async () => {
    const review = JSON.stringify({
      name: 'review',
      inputs: { facts: { type: 'string', required: true } },
      steps: [{ name: 'fix', type: 'claude_code', prompt: 'fix {{ facts }}', executable: './bin/claude' }],
    });
    const files = [h.write('a.yaml', extract), h.write('b.yaml', review)];

    const error = await chain(files, { engine: h.engine, inputs: { topic: 'x' } }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ElexirionError);
    expect((error as Error).message).toMatch(
      /^link 2 of 2 \(b\.yaml\): Claude Code executable .*bin\/claude \(from the step's `executable:`\) does not exist/,
    );
    expect((error as ElexirionError).exitCode).toBe(ExitCode.invalidInput);
    // Link 1 never ran: nothing was asked of its provider, no run was recorded.
    expect(h.mock.prompts).toEqual([]);
    expect(await h.store.listRuns()).toHaveLength(0);
  });

  it('refuses an input that no link declares', async () => {
    const files = [h.write('a.yaml', extract)];
    await expect(chain(files, { engine: h.engine, inputs: { topik: 'x' } })).rejects.toThrow(
      'input "topik" is declared by no pipeline of the chain',
    );
  });

  it('resumeChain refuses an id that is not a chain', async () => {
    const run = await h.run(h.write('a.yaml', extract), { topic: 'x' });
    await expect(resumeChain(run.run_id, { engine: h.engine })).rejects.toThrow('is not the first link of a chain');
  });

  it("takes a link's null output (a skipped step's) as not given: the next link's default applies", async () => {
    // Was: link 2 "could not start" (`input "notes" must be string, got null`) after link 1 was
    // paid, and `chain --resume` failed the same way for good.
    const first = JSON.stringify({
      name: 'first',
      inputs: { deep: { type: 'boolean', default: false } },
      steps: [
        { name: 'quick', type: 'mock', prompt: 'quick look', response: 'quick summary' },
        { name: 'extra', type: 'mock', when: '{{ deep }}', prompt: 'deep look', response: 'deep notes' },
      ],
      outputs: { summary: '{{ steps.quick.output }}', notes: '{{ steps.extra.output }}' },
    });
    const second = (notes: Record<string, unknown>) =>
      JSON.stringify({
        name: 'second',
        inputs: { summary: { type: 'string', required: true }, notes },
        steps: [{ name: 'write', type: 'mock', prompt: 'w', response: 'report: {{ summary }}, {{ notes }}' }],
        outputs: { report: '{{ steps.write.output }}' },
      });
    const files = [h.write('a.yaml', first), h.write('b.yaml', second({ type: 'string', default: '(no notes)' }))];
    const result = await chain(files, { engine: h.engine, mock: true });
    expect(result.error).toBeUndefined();
    expect(result.outputs).toEqual({ report: 'report: quick summary, (no notes)' });

    // A required input the link before outputs as null is missing, and said so.
    const strict = [h.write('c.yaml', first), h.write('d.yaml', second({ type: 'string', required: true }))];
    const refused = await chain(strict, { engine: h.engine, mock: true });
    expect(refused.status).toBe('failed');
    expect(refused.error).toMatch(/^link 2 of 2 \(d\.yaml\) could not start: .*missing required input "notes"/);
  });

  it('says which link output a required input as null, and how a resume can get past it', async () => {
    // Was only "missing required input …, pass it with --input": the cause (the link before) went
    // unsaid, and `chain --resume` refuses --input.
    const first = JSON.stringify({
      name: 'first',
      steps: [{ name: 'extra', type: 'mock', when: 'false', prompt: 'p', response: 'deep notes' }],
      outputs: { notes: '{{ steps.extra.output }}' },
    });
    const second = JSON.stringify({
      name: 'second',
      inputs: { notes: { type: 'string', required: true } },
      steps: [{ name: 'write', type: 'mock', prompt: 'w', response: '{{ notes }}' }],
      outputs: { report: '{{ steps.write.output }}' },
    });
    const files = [h.write('n1.yaml', first), h.write('n2.yaml', second)];
    const refused = await chain(files, { engine: h.engine, mock: true });
    expect(refused.error).toMatch(/could not start: .*missing required input "notes"/s);
    expect(refused.error).toContain('link 1 of 2 (n1.yaml) output "notes" as null');
    expect(refused.error).toContain('give the input a default in n2.yaml and resume');
    // That advice holds: with a default, the resumed chain goes on from link 1's journaled outputs.
    h.write('n2.yaml', second.replace('"required":true', '"default":"(none)"'));
    const resumed = await resumeChain(refused.chain_id, { engine: h.engine });
    expect(resumed.status).toBe('succeeded');
    expect(resumed.outputs).toEqual({ report: '(none)' });
  });

  it('keeps a given input that the link before outputs as null: only a value wins over it', async () => {
    // Was: the null output replaced the given value, and the next link's default applied instead.
    const first = JSON.stringify({
      name: 'first',
      inputs: { deep: { type: 'boolean', default: false } },
      steps: [{ name: 'extra', type: 'mock', when: '{{ deep }}', prompt: 'deep look', response: 'deep notes' }],
      outputs: { notes: '{{ steps.extra.output }}' },
    });
    const second = JSON.stringify({
      name: 'second',
      inputs: { notes: { type: 'string', default: '(no notes)' } },
      steps: [{ name: 'write', type: 'mock', prompt: 'w', response: 'report: {{ notes }}' }],
      outputs: { report: '{{ steps.write.output }}' },
    });
    const files = [h.write('a.yaml', first), h.write('b.yaml', second)];
    const given = await chain(files, { engine: h.engine, mock: true, inputs: { notes: 'from the command line' } });
    expect(given.error).toBeUndefined();
    expect(given.outputs).toEqual({ report: 'report: from the command line' });
    // An output that is there wins on a clash, as ever.
    const produced = await chain(files, {
      engine: h.engine,
      mock: true,
      inputs: { notes: 'from the command line', deep: true },
    });
    expect(produced.outputs).toEqual({ report: 'report: deep notes' });
  });

  it('names the link whose inputs, from the link before, do not fit', async () => {
    const counting = JSON.stringify({
      name: 'counting',
      inputs: { facts: { type: 'integer', required: true } },
      steps: [{ name: 'count', type: 'mock', prompt: 'count {{ facts }}' }],
    });
    const files = [h.write('a.yaml', extract), h.write('n.yaml', counting)];
    const result = await chain(files, { engine: h.engine, mock: true, inputs: { topic: 'x' } });
    expect(result.status).toBe('failed');
    expect(result.failed_link).toBe(2);
    expect(result.error).toMatch(/^link 2 of 2 \(n\.yaml\) could not start: .*input "facts" must be integer/);
  });
});

/**
 * Runs a chain of `files` whose record cannot be written as link 2 starts — as if the process died
 * right there — and returns its id once anything the dead chain left running has ended (and paid).
 */
async function chainDyingAtLink2(files: string[]): Promise<string> {
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
  return (await h.store.listRuns()).find((r) => r.pipelineName === 'extract')?.id as string;
}

const summarizePrompts = () => h.mock.prompts.filter((p) => p.startsWith('summarize'));

describe('chain: a link is recorded in the chain before it runs', () => {
  it('a chain that dies before it recorded a link never paid for that link, so its resume pays once', async () => {
    const chainId = await chainDyingAtLink2([h.write('a.yaml', extract), h.write('b.yaml', summarize())]);
    const resumed = await resumeChain(chainId, { engine: h.engine });
    expect(resumed.status).toBe('succeeded');
    expect(summarizePrompts()).toHaveLength(1);
    // The run link 2 had created, never recorded, is the one the resume ran: no run is left behind.
    const links = (await h.store.listRuns()).filter((r) => r.pipelineName === 'summarize');
    expect(links.map((r) => [r.id, r.status])).toEqual([[resumed.links[1]?.run_id, 'succeeded']]);
  });

  it('an adopted link run that then fails is resumed by the next resumeChain, not run again', async () => {
    // resumeChain records the adopted run before running it: once it has an owner, nothing else
    // would tell the next resume that it is the link's run.
    const flaky = JSON.stringify({
      ...JSON.parse(summarize()),
      steps: [
        ...JSON.parse(summarize()).steps,
        { name: 'flaky', type: 'mock', prompt: 'flaky', fail_first: 1, retry: { max_attempts: 1 } },
      ],
    });
    const chainId = await chainDyingAtLink2([h.write('a.yaml', extract), h.write('b.yaml', flaky)]);
    const first = await resumeChain(chainId, { engine: h.engine });
    expect(first.status).toBe('failed');
    expect(first.failed_link).toBe(2);
    const second = await resumeChain(chainId, { engine: h.engine });
    expect(second.status).toBe('succeeded');
    expect(second.links[1]?.run_id).toBe(first.links[1]?.run_id);
    expect(summarizePrompts()).toHaveLength(1);
  });
});
