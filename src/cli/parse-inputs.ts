// Inputs from the command line: `--input key=value` (repeatable) and `--inputs file.json`. Values
// stay strings here; resolveInputs reads them as the types the pipeline declares.
import { UsageError } from '../errors.js';
import { readInputsFile } from './inputs-file.js';

export function parseInputs(pairs: string[] = [], file: string | undefined, cwd: string): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  if (file !== undefined) {
    const parsed = readInputsFile(file, cwd);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UsageError(`--inputs ${file} must hold a JSON object`, 'e.g. {"topic": "durability", "count": 3}');
    }
    for (const [key, value] of Object.entries(parsed)) setOwn(inputs, key, value);
  }
  const given = new Set<string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--input ${JSON.stringify(pair)} is not key=value`, keyValueHint(pair));
    const key = pair.slice(0, eq);
    // The last of two would win unseen: `-i files=a.ts -i files=b.ts` would run on b.ts alone.
    if (given.has(key)) {
      throw new UsageError(
        `--input ${JSON.stringify(key)} is given more than once`,
        `give it once; a list is one JSON value: --input '${key}=["a", "b"]'`,
      );
    }
    given.add(key);
    setOwn(inputs, key, pair.slice(eq + 1));
  }
  return inputs;
}

/** What to write instead of a pair that is not key=value: `-i topic` wants `-i topic=VALUE`. */
function keyValueHint(pair: string): string {
  if (pair === '' || pair.startsWith('=')) return 'name the input before the "=": e.g. --input topic=durability';
  return `write --input ${pair}=VALUE (e.g. --input topic=durability)`;
}

/**
 * An own property even for `__proto__`: assigned (or Object.assign-ed), that key would set the
 * object's prototype and the input would vanish unreported, instead of being refused as unknown.
 */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
