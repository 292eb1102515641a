// The loop's own rules, with a scripted caller where no SDK is needed and a fake where streaming is.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinTools, type ModelCaller, providerCaller, resolveTools, runLlmCall } from '../../src/llm/index.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';
import type { OpenAIFake } from '../fakes/index.js';
import { request, subjects } from '../providers/harness.js';

function scripted(...responses: Array<Partial<ModelResponse>>): ModelCaller & { seen: ModelRequest[] } {
  const seen: ModelRequest[] = [];
  const caller = async (req: ModelRequest) => {
    seen.push(req);
    const next = responses.shift() ?? {};
    return {
      text: '',
      toolCalls: [],
      usage: { inputTokens: 10, outputTokens: 5 },
      finishReason: 'stop' as const,
      model: 'claude-haiku-4-5',
      ...next,
    };
  };
  return Object.assign(caller, { seen });
}

const base: ModelRequest = {
  provider: 'anthropic',
  model: 'claude-haiku-4-5',
  messages: [{ role: 'user', content: 'hi' }],
};

const all = subjects();
const anthropicSubject = all[0] as (typeof all)[number];
const openaiSubject = all.find((s) => s.name === 'openai') as (typeof all)[number];
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'elexirion-loop-'));
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'a.txt'), 'A');
  await writeFile(join(dir, 'sub', 'b.txt'), 'B');
  await symlink(tmpdir(), join(dir, 'out'));
  await writeFile(
    join(dir, 'tools.mjs'),
    'export function add({ a, b }) { return { sum: a + b }; }\nexport const notAFunction = 1;\n',
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runLlmCall', () => {
  it('streams chunks to onChunk through a real provider', async () => {
    const subject = anthropicSubject;
    subject.fake.queueAnswers({ text: 'alpha beta gamma', chunks: 3 });
    const chunks: string[] = [];
    const result = await runLlmCall({
      request: request(subject),
      call: providerCaller(subject.provider()),
      stream: true,
      onChunk: (t) => chunks.push(t),
      signal: AbortSignal.timeout(5000),
    });
    expect(chunks.length).toBe(3);
    expect(chunks.join('')).toBe('alpha beta gamma');
    expect(result.text).toBe('alpha beta gamma');
    expect((subject.fake.requests[0]?.body as { stream?: boolean } | undefined)?.stream).toBe(true);
  });

  it('prices a streamed call whose server sent no usage on an estimate, flagged, never at $0', async () => {
    (openaiSubject.fake as OpenAIFake).ignoresStreamOptions = true;
    openaiSubject.fake.queueAnswers({ text: 'a streamed answer of some length', chunks: 2 });
    const result = await runLlmCall({
      request: request(openaiSubject),
      call: providerCaller(openaiSubject.provider()),
      stream: true,
      signal: AbortSignal.timeout(5000),
    });
    expect(result.text).toBe('a streamed answer of some length');
    expect(result.usage.estimated).toBe(true);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    expect(result.costUsd).toBeGreaterThan(0);
  });

  it('sums usage and prices each call; no call priced makes the cost unknown (null, not 0)', async () => {
    const priced = await runLlmCall({ request: base, call: scripted({}), signal: AbortSignal.timeout(1000) });
    expect(priced.costUsd).toBeCloseTo((10 * 1 + 5 * 5) / 1e6);
    expect(priced.unpricedCalls).toBe(0);
    const unknown = await runLlmCall({
      request: { ...base, provider: 'ollama', model: 'llama3.2' },
      call: scripted({ model: 'llama3.2' }),
      signal: AbortSignal.timeout(1000),
    });
    expect(unknown.costUsd).toBeNull();
    expect(unknown.unpricedCalls).toBe(1);
    const overridden = await runLlmCall({
      request: { ...base, provider: 'ollama', model: 'llama3.2' },
      call: scripted({ model: 'llama3.2' }),
      prices: { 'llama3.2': { input: 1, output: 1 } },
      signal: AbortSignal.timeout(1000),
    });
    expect(overridden.costUsd).toBeCloseTo(15 / 1e6);
  });

  it('keeps the cost of the priced calls when another is unpriced, and counts that one apart', async () => {
    // A tool turn on claude-haiku-4-5 (priced), then the answer from a model the table lacks.
    const result = await runLlmCall({
      request: { ...base, tools: [{ name: 'add', description: 'add', parameters: { type: 'object' } }] },
      call: scripted({ toolCalls: [{ id: '1', name: 'add', arguments: {} }] }, { model: 'claude-unlisted-9' }),
      tools: { add: () => '3' },
      signal: AbortSignal.timeout(1000),
    });
    expect(result).toMatchObject({ calls: 2, unpricedCalls: 1, model: 'claude-unlisted-9' });
    expect(result.costUsd).toBeCloseTo((10 * 1 + 5 * 5) / 1e6);
    expect(result.usage).toMatchObject({ inputTokens: 20, outputTokens: 10 });
  });

  it('returns an error result for an unknown tool or invalid arguments, and goes on', async () => {
    const tools = [{ name: 'add', description: 'add', parameters: { type: 'object', required: ['a', 'b'] } }];
    const caller = scripted(
      {
        toolCalls: [
          { id: '1', name: 'nope', arguments: {} },
          { id: '2', name: 'add', arguments: { a: 1 } },
        ],
      },
      { text: 'done' },
    );
    const result = await runLlmCall({
      request: { ...base, tools },
      call: caller,
      tools: { add: () => 'never' },
      signal: AbortSignal.timeout(1000),
    });
    expect(result.toolCalls.map((r) => [r.isError, r.result])).toEqual([
      [true, 'unknown tool "nope"'],
      [true, "invalid arguments: (root): must have required property 'b'"],
    ]);
    expect(caller.seen[1]?.messages.filter((m) => m.role === 'tool')).toHaveLength(2);
  });

  it('stops at once when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(runLlmCall({ request: base, call: scripted({}), signal: controller.signal })).rejects.toThrow();
  });
});

describe('resolveTools', () => {
  it('loads a user tool from a module next to the pipeline', async () => {
    const resolved = await resolveTools(
      [{ name: 'add', description: 'Add two numbers', module: './tools.mjs', parameters: { type: 'object' } }],
      dir,
    );
    expect(resolved.specs).toEqual([{ name: 'add', description: 'Add two numbers', parameters: { type: 'object' } }]);
    expect(await resolved.implementations.add?.({ a: 2, b: 3 }, { signal: AbortSignal.timeout(100) })).toEqual({
      sum: 5,
    });
  });

  it('explains a missing export, a missing module and a tool without implementation', async () => {
    await expect(
      resolveTools([{ name: 'x', description: 'd', module: './tools.mjs', export: 'notAFunction' }], dir),
    ).rejects.toThrow(/no function export "notAFunction"/);
    await expect(resolveTools([{ name: 'x', description: 'd', module: './missing.mjs' }], dir)).rejects.toThrow(
      /cannot load module/,
    );
    await expect(resolveTools([{ name: 'x', description: 'd' }], dir)).rejects.toThrow(/has no implementation/);
  });
});

describe('list_files', () => {
  it('lists recursively, relative to the workspace, without following symlinks', async () => {
    const listing = await builtinTools(dir).list_files({ recursive: true }, { signal: AbortSignal.timeout(100) });
    expect(String(listing).split('\n')).toEqual(['a.txt', 'out', 'sub/', 'sub/b.txt', 'tools.mjs']);
  });

  it('refuses to list a directory outside through a symlink', async () => {
    await expect(builtinTools(dir).list_files({ path: 'out' }, { signal: AbortSignal.timeout(100) })).rejects.toThrow(
      /refused/,
    );
  });
});
