// The bad-input corpus: every malformed file must give exit code 2 and a clear, positioned
// message — never a crash, a hang or a stack trace. The real CLI (dist/, built by `npm test`)
// runs once over every file; each file's message is then checked in-process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain } from '../cli/run-main.js';

const root = join(import.meta.dirname, '..', '..');
const corpusDir = join(root, 'test', 'corpus');

/** file → [expected text in the message, expected line:col of the first diagnostic]. */
const expectations: Record<string, [string, string]> = {
  'yaml-unclosed-bracket.yaml': ['end with a ]', '4:1'],
  'yaml-tab-indent.yaml': ['tabs are not allowed as indentation', '3:1'],
  'yaml-tab-in-step.yaml': ['tabs are not allowed as indentation', '5:1'],
  'yaml-duplicate-key.yaml': ['duplicate key "prompt"', '6:5'],
  'yaml-duplicate-top-key.yaml': ['duplicate key "name"', '2:1'],
  'yaml-nested-compact-mapping.yaml': ['nested mappings are not allowed', '5:13'],
  'yaml-unclosed-quote.yaml': ['the double quote opened here is never closed', '5:13'],
  'yaml-multiple-documents.yaml': ['more than one YAML document', '4:1'],
  'yaml-unknown-alias.yaml': ['unknown alias *shared', '2:11'],
  'yaml-proto-key.yaml': ['the key "__proto__" is not allowed', '4:3'],
  'yaml-complex-key.yaml': ['a key must be plain text, got a list', '3:3'],
  'billion-laughs.yaml': ['too many aliases', '3:8'],
  'empty.yaml': ['the file is empty', '1:1'],
  'only-comments.yaml': ['the file is empty', '1:1'],
  'root-list.yaml': ['top level must be a mapping', '1:1'],
  'root-scalar.yaml': ['top level must be a mapping', '1:1'],
  'binary-garbage.yaml': ['binary data', '2:1'],
  'invalid-utf8.yaml': ['not valid UTF-8', '3:40'],
  'missing-name.yaml': ['missing required key "name"', '1:1'],
  'missing-steps.yaml': ['missing required key "steps"', '1:1'],
  'empty-steps.yaml': ['at least 1 item', '2:8'],
  'bad-pipeline-name.yaml': ['"My Pipeline!" is not valid', '1:7'],
  'bad-step-name.yaml': ['"Fetch-Data" is not valid', '3:11'],
  'missing-step-name.yaml': ['missing required key "name" at steps[0].name', '3:5'],
  'duplicate-step-name.yaml': ['duplicate step name "draft"', '6:11'],
  'duplicate-step-name-in-parallel.yaml': ['duplicate step name "draft" (already used by steps[0])', '9:15'],
  'unknown-step-type.yaml': ['unknown step type "claud"', '4:11'],
  'missing-step-type.yaml': ['missing required key "type"', '3:5'],
  'misspelt-step-key.yaml': ['unknown key "promt"', '5:5'],
  'misspelt-top-key.yaml': ['unknown key "default"', '2:1'],
  'misspelt-retry-key.yaml': ['unknown key "max_attempt"', '7:7'],
  'wrong-type-number.yaml': ['expected a number, got the string "lots"', '6:17'],
  'wrong-type-steps-mapping.yaml': ['expected a list, got a mapping', '3:3'],
  'wrong-type-cache.yaml': ['got the string "yes"', '6:12'],
  'out-of-range.yaml': ['at most 2, got the number 3.5', '6:18'],
  'bad-duration.yaml': ['"5 minutes" is not valid: expected a duration', '6:14'],
  'bad-duration-negative.yaml': ['at least 0, got the number -100', '3:24'],
  'duration-overflow.yaml': ['the duration 1000h is too long: at most 596h (2147483647 ms', '6:14'],
  'duration-overflow-ms.yaml': ['the duration 3000000000 ms is too long: at most 596h', '3:23'],
  'forward-reference.yaml': ['"second"', '5:25'],
  'unknown-step-reference.yaml': ['unknown step "plna"', '10:16'],
  'undeclared-variable.yaml': ['"topik"', '7:29'],
  'item-outside-batch.yaml': ['"item"', '5:27'],
  'unknown-provider.yaml': ['unknown provider "antropic"', '5:15'],
  'provider-without-type.yaml': ['provider "ollama" is not a built-in provider and has no `type`', '3:3'],
  'missing-pipeline-file.yaml': ['pipeline file "./does-not-exist.yaml" does not exist', '5:11'],
  'pipeline-step-both.yaml': ['not both', '7:7'],
  'invalid-json-schema.yaml': ['"objekt" is not a JSON type', '7:13'],
  'fallback-missing.yaml': ['has no `fallback:`', '6:15'],
  'input-default-wrong-type.yaml': ['the default of input "count" is the string "three"', '3:36'],
  'batch-items-plain-string.yaml': ['`items` must be a list or a template', '5:12'],
};

/** Hints that must accompany a message (did-you-mean and friends). */
const hints: Record<string, string> = {
  'unknown-step-type.yaml': 'did you mean "claude"?',
  'empty-steps.yaml': 'a pipeline runs at least one step: add one under `steps:`',
  'misspelt-step-key.yaml': 'did you mean "prompt"?',
  'misspelt-top-key.yaml': 'did you mean "defaults"?',
  'misspelt-retry-key.yaml': 'did you mean "max_attempts"?',
  'unknown-provider.yaml': 'did you mean "anthropic"?',
  'undeclared-variable.yaml': 'did you mean "topic"?',
  'invalid-json-schema.yaml': 'did you mean "object"?',
  'wrong-type-cache.yaml': 'YAML 1.2 reads yes as text: write true or false',
  'yaml-tab-indent.yaml': 'YAML indents with spaces only',
  'duration-overflow.yaml': 'write 596h or less; a longer timer would fire at once',
};

const corpusFiles = readdirSync(corpusDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

// The 5 MB file is generated, not committed.
const tempDir = mkdtempSync(join(tmpdir(), 'elexirion-corpus-'));
const hugeFile = join(tempDir, 'huge.yaml');
writeFileSync(
  hugeFile,
  `name: huge\nsteps:\n${'  - { name: a, type: mock, prompt: "padding padding padding" }\n'.repeat(80_000)}`,
);
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

describe('the bad-input corpus', () => {
  it('holds at least 32 files, each with an expectation', () => {
    expect(corpusFiles.length).toBeGreaterThanOrEqual(32);
    expect(corpusFiles.filter((f) => !(f in expectations))).toEqual([]);
    expect(Object.keys(expectations).filter((f) => !corpusFiles.includes(f))).toEqual([]);
  });

  it('the real CLI rejects every file with exit 2, positioned messages and no stack trace, quickly', () => {
    const files = [...corpusFiles.map((f) => relative(root, join(corpusDir, f))), hugeFile];
    const started = Date.now();
    const result = spawnSync(process.execPath, ['bin/elexirion.js', 'validate', ...files], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 20_000,
    });
    const elapsed = Date.now() - started;
    expect(result.status).toBe(2);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    // Nothing but the diagnostics: no warning of Node or of a library on the way.
    expect(result.stderr).not.toMatch(/Warning:/);
    for (const file of files) {
      const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      expect(result.stderr, file).toMatch(new RegExp(`^${escaped}:\\d+:\\d+: `, 'm'));
    }
    expect(result.stderr).toContain(`${files.length} of ${files.length} files invalid`);
    // One process for ~50 files, a 5 MB one among them: well under a second per file.
    expect(elapsed).toBeLessThan(files.length * 1000);
  });

  it('refuses the 5 MB file by its size, saying the limit', async () => {
    const result = await runMain(['validate', hugeFile]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/:1:1: the file is too large \(\d+ bytes; the limit is 1000000 bytes\)/);
  });

  it.each(corpusFiles)('%s: exit 2 with the expected message at the expected place', async (file) => {
    const [text, position] = expectations[file] as [string, string];
    const path = relative(root, join(corpusDir, file));
    const started = Date.now();
    const result = await runMain(['validate', path], { cwd: root });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const first = result.stderr.split('\n')[0] ?? '';
    expect(first).toContain(`${path}:${position}: `);
    expect(result.stderr).toContain(text);
    const hint = hints[file];
    if (hint !== undefined) expect(result.stderr).toContain(`hint: ${hint}`);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
