// Tool calling through the loop and each real SDK: read_file inside the workspace, a path-traversal
// attempt refused (the file outside never read, the model told why), and max_turns.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MaxTurnsExceededError, providerCaller, resolveTools, runLlmCall } from '../../src/llm/index.js';
import { builtinTools } from '../../src/llm/tools/builtin-tools.js';
import { rejection, request, subjects } from '../providers/harness.js';

const SECRET = 'TOP-SECRET-OUTSIDE-THE-WORKSPACE';
let root: string;
let workspace: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'elexirion-tools-'));
  workspace = join(root, 'ws');
  await mkdir(join(workspace, 'docs'), { recursive: true });
  await writeFile(join(workspace, 'docs', 'notes.txt'), 'the notes say 42');
  await writeFile(join(workspace, '..draft.txt'), 'a name that starts with two dots');
  await writeFile(join(root, 'secret.txt'), SECRET);
  await symlink(join(root, 'secret.txt'), join(workspace, 'innocent.txt'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.each(subjects())('tools via $name', (subject) => {
  it('runs read_file and answers with what it read', async () => {
    const { specs, implementations } = await resolveTools(['read_file', 'list_files'], workspace);
    subject.fake.setScript((_req, digest) =>
      subject.fake.requests.length === 1
        ? { toolCalls: [{ id: 'c1', name: 'read_file', arguments: { path: 'docs/notes.txt' } }] }
        : { text: `answer from ${digest.lastUserText}` },
    );
    const result = await runLlmCall({
      request: request(subject, { tools: specs }),
      call: providerCaller(subject.provider()),
      tools: implementations,
      signal: AbortSignal.timeout(5000),
    });
    expect(result.toolCalls).toEqual([
      { call: expect.objectContaining({ name: 'read_file' }), result: 'the notes say 42', isError: false },
    ]);
    expect(result.text).toContain('the notes say 42');
    expect(result.turns).toBe(1);
    expect(result.calls).toBe(2);
  });

  it('refuses paths that escape the workspace and tells the model, never reading the file', async () => {
    const { specs, implementations } = await resolveTools(['read_file'], workspace);
    const attempts = ['../secret.txt', join(root, 'secret.txt'), 'innocent.txt'];
    subject.fake.setScript(() =>
      subject.fake.requests.length === 1
        ? { toolCalls: attempts.map((path, i) => ({ id: `c${i}`, name: 'read_file', arguments: { path } })) }
        : { text: 'I could not read it.' },
    );
    const result = await runLlmCall({
      request: request(subject, { tools: specs }),
      call: providerCaller(subject.provider()),
      tools: implementations,
      signal: AbortSignal.timeout(5000),
    });
    expect(result.toolCalls).toHaveLength(3);
    for (const record of result.toolCalls) {
      expect(record.isError).toBe(true);
      expect(record.result).toMatch(/refused/);
      expect(record.result).not.toContain(SECRET);
    }
    const followUp = subject.fake.requests[1]?.rawBody ?? '';
    expect(followUp).toContain('refused');
    expect(subject.fake.requests.map((r) => r.rawBody).join()).not.toContain(SECRET);
  });

  it('throws MaxTurnsExceededError when the model keeps calling tools', async () => {
    const { specs, implementations } = await resolveTools(['list_files'], workspace);
    subject.fake.setScript(() => ({ toolCalls: [{ name: 'list_files', arguments: {} }] }));
    const err = await rejection(
      runLlmCall({
        request: request(subject, { tools: specs }),
        call: providerCaller(subject.provider()),
        tools: implementations,
        maxTurns: 2,
        signal: AbortSignal.timeout(5000),
      }),
    );
    expect(err).toBeInstanceOf(MaxTurnsExceededError);
    expect(subject.fake.requests).toHaveLength(3);
  });
});

describe('built-in tools, called directly', () => {
  it('reads a file whose name starts with ".." — only a whole ".." segment leaves the workspace', async () => {
    const tools = builtinTools(workspace);
    const ctx = { signal: AbortSignal.timeout(5000) };
    expect(await tools.read_file({ path: '..draft.txt' }, ctx)).toBe('a name that starts with two dots');
    expect(await tools.list_files({}, ctx)).toContain('..draft.txt');
    await expect(tools.read_file({ path: '../secret.txt' }, ctx)).rejects.toThrow(/refused/);
    await expect(tools.read_file({ path: 'docs/../../secret.txt' }, ctx)).rejects.toThrow(/refused/);
    await expect(tools.read_file({ path: '..' }, ctx)).rejects.toThrow(/refused|not a file/);
  });
});
