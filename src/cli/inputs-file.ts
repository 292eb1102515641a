// The `--inputs file.json` file, read for run and chain: its JSON value, or a usage mistake (exit 2)
// that says what is wrong with the file and where.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { firstInvalidUtf8 } from '../config/yaml-source.js';
import { UsageError } from '../errors.js';
import { fsProblem } from '../fs-problem.js';
import { jsonErrorPlace } from './json-error-place.js';

const JSON_HINT = 'give a JSON file holding one object, e.g. {"topic": "durability", "count": 3}';

/**
 * The JSON value of an `--inputs` file, or a UsageError that says what is wrong and where
 * (`file:line:col`) — in words of its own, never the file's text: V8's messages quote it, and an
 * inputs file may hold a secret. Bytes that are not UTF-8 are refused, not read as U+FFFD (the
 * input would reach the model changed, without a word).
 */
export function readInputsFile(file: string, cwd: string): unknown {
  const path = resolve(cwd, file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint =
      code === 'ENOENT'
        ? `check the path (looked for ${path})`
        : code === 'EISDIR'
          ? JSON_HINT
          : 'check the path and its permissions';
    throw new UsageError(`cannot read --inputs ${file}: ${fsProblem(error)}`, hint);
  }
  let text: string;
  try {
    // A byte order mark (as some editors, and PowerShell's Out-File, write one) is no JSON.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    const { line, col } = firstInvalidUtf8(bytes);
    throw new UsageError(
      `cannot read --inputs ${file}:${line}:${col}: the file is not valid UTF-8 text`,
      'save it as UTF-8, as JSON is',
    );
  }
  if (text.trim() === '') throw new UsageError(`cannot read --inputs ${file}: the file is empty`, JSON_HINT);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const place = jsonErrorPlace(text);
    const where = place === undefined ? '' : `:${place.line}:${place.col}`;
    throw new UsageError(
      `cannot read --inputs ${file}${where}: not valid JSON${place === undefined ? '' : ` (${place.found})`}`,
      'JSON puts keys and strings in double quotes, and no comma after the last member: e.g. {"topic": "durability", "count": 3}',
    );
  }
}
