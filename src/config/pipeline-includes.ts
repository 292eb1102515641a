// Load-time checks of the pipelines a pipeline includes through `file:` steps, followed from file
// to file: a pipeline that includes itself (directly or through others) and nesting deeper than
// MAX_PIPELINE_DEPTH are errors before anything runs. The included files are only read as YAML
// here, exactly as the loader reads them (yaml-source.ts parseSource: merge keys, alias limits…),
// under the top-level loader's limits: a regular file, at most MAX_PIPELINE_BYTES, checked
// before it is read; and, when the load is confined to a root (`serve --root`), inside it. Once
// these checks pass, the loader validates each included file in full (semantic-checks.ts,
// loader.ts includedDiagnostics), as its step will load it when it runs. One load reads, walks and
// validates each file once (IncludeMemo, loader.ts includeChecks), however many steps run it.
import { readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { isInsideRoot, outsideRootProblem } from './confine.js';
import type { DocPath } from './path.js';
import type { Problem } from './problem.js';
import { Input, type Input as InputDeclaration, Pipeline } from './schema.js';
import { decodeSource, MAX_PIPELINE_BYTES, parseSource } from './yaml-source.js';

/** How deep pipelines may nest: a run's pipeline is level 0, a pipeline it runs as a step level 1. */
export const MAX_PIPELINE_DEPTH = 8;

/**
 * What one load learns of the files its pipeline includes, kept for the whole load (the files it
 * validates in turn included): each file is read once, and its includes walked once, however many
 * `file:` steps run it — else a file run by several steps, itself running another by several
 * steps, would be read and walked (steps per file)^(depth) times.
 */
export interface IncludeMemo {
  /** Each file as readInclude read it, by absolute path. */
  readonly reads: Map<string, IncludeRead>;
  /**
   * Files walked without a problem, with the deepest level each was walked at. A clean walk found no
   * cycle reachable from the file (any such cycle passes through a file the walk follows twice) and
   * no nesting past the limit from that level: a walk from there or a shallower level would find
   * nothing either, whoever includes it.
   */
  readonly clean: Map<string, number>;
}

export function newIncludeMemo(): IncludeMemo {
  return { reads: new Map(), clean: new Map() };
}

export interface IncludeScope {
  /** The including pipeline's folder (for messages). */
  dir: string;
  /** When set, the only directory the files it includes in turn may come from. */
  root?: string;
  /**
   * The including pipeline's own file (absolute): the first file of a cycle back to it, which is
   * then named as the file that includes itself (a.yaml → b.yaml → a.yaml, for a.yaml's step).
   */
  includer?: string;
  memo?: IncludeMemo;
}

/**
 * Problems of the file a `file:` step includes. `level` is the nesting level of that file's run
 * (1 for a step of a top-level pipeline).
 */
export function includeProblems(file: string, path: DocPath, level: number, scope: IncludeScope): Problem[] {
  const { dir, root, includer, memo = newIncludeMemo() } = scope;
  const show = (f: string) => relative(dir, f) || f;
  const cycleProblem = (cycle: string[]): Problem => ({
    path,
    message: `pipeline file "${show(cycle[0] ?? file)}" includes itself: ${cycle.map(show).join(' → ')}`,
    hint: 'a pipeline cannot run itself, directly or through other pipelines: break the cycle of `file:` references',
  });
  const deepProblem = (through: string[], inline: string): Problem => ({
    path,
    message: `pipelines nest more than ${MAX_PIPELINE_DEPTH} deep through ${through.map(show).join(' → ')}${inline}`,
    hint: 'flatten the nesting: a pipeline step may run a pipeline that runs pipelines, but not without end',
  });
  const walk = (current: string, stack: string[], depth: number): Problem | undefined => {
    if ((memo.clean.get(current) ?? Number.NEGATIVE_INFINITY) >= depth) return undefined;
    if (depth > MAX_PIPELINE_DEPTH) return deepProblem([...stack, current], '');
    const read = readInclude(current, memo);
    if (typeof read === 'string') {
      return { path, message: `pipeline file "${show(current)}" ${read}`, hint: 'include a pipeline .yaml file' };
    }
    const { document } = read;
    if (document === undefined) return undefined; // unreadable or malformed: its own load says why
    const { files, deepest } = includesOf(document, dirname(current), depth);
    // The inline pipelines of an included file nest as deep as files do: its own load counts their
    // levels from its top, not from where it runs, so the whole chain is counted here.
    if (deepest > MAX_PIPELINE_DEPTH) {
      return deepProblem([...stack, current], ` and the inline pipelines in "${show(current)}"`);
    }
    for (const include of files) {
      // Checked before it is read: a file outside the root is neither run nor looked at.
      if (root !== undefined && !isInsideRoot(root, include.file)) {
        const what = `pipeline file "${show(include.file)}" (included by "${show(current)}")`;
        return { path, ...outsideRootProblem(what) };
      }
      if (include.file === current) return cycleProblem([current, current]);
      const from = stack.indexOf(include.file);
      if (from !== -1) return cycleProblem([...stack.slice(from), current, include.file]);
      const problem = walk(include.file, [...stack, current], include.depth);
      if (problem) return problem;
    }
    memo.clean.set(current, Math.max(depth, memo.clean.get(current) ?? depth));
    return undefined;
  };
  if (includer !== undefined && file === includer) return [cycleProblem([file, file])];
  const problem = walk(file, includer === undefined ? [] : [includer], level);
  return problem ? [problem] : [];
}

/**
 * The inputs a pipeline file declares, when they are well formed (else undefined: the file's own
 * load reports them). Lets a `file:` step's `inputs:` be checked before anything runs.
 */
export function declaredInputs(file: string, memo?: IncludeMemo): Record<string, InputDeclaration> | undefined {
  const read = readInclude(file, memo);
  const document = typeof read === 'string' ? undefined : read.document;
  if (typeof document !== 'object' || document === null) return undefined;
  const inputs = (document as { inputs?: unknown }).inputs;
  if (inputs === undefined || inputs === null) return {};
  if (typeof inputs !== 'object' || Array.isArray(inputs)) return undefined;
  const declared: Record<string, InputDeclaration> = {};
  for (const [name, value] of Object.entries(inputs)) {
    const parsed = Input.safeParse(value);
    if (!parsed.success) return undefined;
    declared[name] = parsed.data;
  }
  return declared;
}

/**
 * The output keys a pipeline file declares, when its `outputs:` is well formed (else undefined: the
 * file's own load reports it). Lets a template's `steps.NAME.output.KEY` be checked before anything runs.
 */
export function declaredOutputs(file: string, memo?: IncludeMemo): string[] | undefined {
  const read = readInclude(file, memo);
  const document = typeof read === 'string' ? undefined : read.document;
  if (typeof document !== 'object' || document === null) return undefined;
  const outputs = (document as { outputs?: unknown }).outputs;
  if (outputs === undefined || outputs === null) return [];
  return typeof outputs === 'object' && !Array.isArray(outputs) ? Object.keys(outputs) : undefined;
}

/**
 * The pipeline an included file holds, when it is well formed (else undefined: its own load reports
 * it). Lets what runs as a step be checked before anything runs (its providers' keys).
 */
export function includedPipeline(file: string): Pipeline | undefined {
  const read = readInclude(file);
  if (typeof read === 'string') return undefined;
  const parsed = Pipeline.safeParse(read.document);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The parsed document of an included file (undefined when missing, unreadable or malformed: its own
 * load reports that), or why it is refused unread: the same limits as the top-level loader's — a
 * FIFO or a device would block or never end, a huge file would be read whole into memory. Parsed
 * by the loader's own parseSource: any other reading (merge keys off, say) would check a different
 * pipeline from the one that runs.
 */
function readInclude(file: string, memo?: IncludeMemo): IncludeRead {
  const known = memo?.reads.get(file);
  if (known !== undefined) return known;
  const read = readIncludeFile(file);
  memo?.reads.set(file, read);
  return read;
}

/** An included file's parsed document, or why it is refused unread (see readInclude). */
type IncludeRead = { document: unknown } | string;

function readIncludeFile(file: string): IncludeRead {
  let size: number;
  try {
    const info = statSync(file);
    if (!info.isFile()) return 'is not a regular file';
    size = info.size;
  } catch {
    return { document: undefined };
  }
  if (size > MAX_PIPELINE_BYTES) return `is too large (${size} bytes; the limit is ${MAX_PIPELINE_BYTES} bytes)`;
  try {
    const decoded = decodeSource(readFileSync(file));
    if (!('text' in decoded)) return { document: undefined };
    const parsed = parseSource(decoded.text);
    return { document: parsed.ok ? parsed.data : undefined };
  } catch {
    return { document: undefined };
  }
}

/**
 * The files a pipeline document running at level `depth` includes, with the level each one runs at;
 * and the deepest level its inline pipelines run at (`depth` when it has none).
 */
function includesOf(
  document: unknown,
  dir: string,
  depth: number,
): { files: { file: string; depth: number }[]; deepest: number } {
  const files: { file: string; depth: number }[] = [];
  let deepest = depth;
  const visitSteps = (steps: unknown, level: number): void => {
    if (!Array.isArray(steps)) return;
    for (const step of steps) {
      if (typeof step !== 'object' || step === null) continue;
      const s = step as { type?: unknown; file?: unknown; pipeline?: unknown; steps?: unknown };
      if (s.type === 'parallel') visitSteps(s.steps, level);
      if (s.type !== 'pipeline') continue;
      if (typeof s.file === 'string') files.push({ file: resolve(dir, s.file), depth: level + 1 });
      if (typeof s.pipeline === 'object' && s.pipeline !== null) {
        deepest = Math.max(deepest, level + 1);
        // Past the limit it is refused: what lies deeper is not looked at.
        if (level + 1 <= MAX_PIPELINE_DEPTH) visitSteps((s.pipeline as { steps?: unknown }).steps, level + 1);
      }
    }
  };
  visitSteps((document as { steps?: unknown } | null)?.steps, depth);
  return { files, deepest };
}
