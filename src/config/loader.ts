// The loader: pipeline file → positioned YAML → zod-validated Pipeline → semantic and template
// checks. Every problem of the file is collected and thrown at once as a ConfigError whose
// diagnostics carry file:line:col, the key path, what was expected and a hint.
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { ConfigError, type Diagnostic } from '../errors.js';
import { canonicalHash } from './canonical.js';
import { isInsideRoot, outsideRootProblem } from './confine.js';
import { type DocPath, formatPath } from './path.js';
import { type IncludeMemo, newIncludeMemo } from './pipeline-includes.js';
import type { LocateOptions, Position } from './positions.js';
import type { IncludeCheck, Problem } from './problem.js';
import { Pipeline } from './schema.js';
import { semanticProblems } from './semantic-checks.js';
import { templateProblems } from './template-problems.js';
import { decodeSource, MAX_PIPELINE_BYTES, parseSource, type SourceProblem, tooLarge } from './yaml-source.js';
import { zodProblems } from './zod-problems.js';

export interface LoadedPipeline {
  pipeline: Pipeline;
  /** Absolute path of the file. */
  file: string;
  /**
   * The file as given to the loader (relative to the working directory, or absolute): the name its
   * load-time diagnostics use, so that later ones about the same run start (inputs) match them.
   * Optional (a LoadedPipeline a library caller builds by hand has none): `file` is used instead.
   */
  shownAs?: string;
  /** Its directory: relative paths in the pipeline (`file:`, tool modules) resolve against it. */
  dir: string;
  /**
   * Where this document sits in its file's: an inline child pipeline's key path in its parent's
   * (`steps[2].pipeline`), which messages put before the paths inside it. Absent: a file's own.
   */
  placedAt?: DocPath;
  /** Set when loaded with `root`: the pipelines it runs as steps are loaded confined to it too. */
  root?: string;
  source: string;
  /** sha256 of the canonical JSON of the document: unchanged by formatting and comments. */
  hash: string;
  /**
   * Line and column (1-based) of the value at a key path, or of the nearest enclosing node; with
   * `offset`, of that character inside a string value (a template's failing tag).
   */
  locate(path: DocPath, options?: LocateOptions): Position;
}

export interface LoadOptions {
  /** Resolves a relative `file` (default: the process's working directory). Messages keep `file` as given. */
  cwd?: string;
  /**
   * Confines the load to this directory (`serve --root`): the file itself and every file it names
   * (`file:` steps, tool modules) must lie inside it, symlinks followed; one outside is a
   * diagnostic, and is not read.
   */
  root?: string;
}

export async function loadPipeline(file: string, options: LoadOptions = {}): Promise<LoadedPipeline> {
  return loadPipelineBytes(await readPipelineBytes(file, options), file, options);
}

/**
 * What loadPipeline reads, with every check it makes before reading (confinement, a regular file,
 * the size limit): the file's bytes. Lets a cache of loads (load-cache.ts) compare them with those
 * a load was made from, each time, under the same checks.
 */
export async function readPipelineBytes(file: string, options: LoadOptions = {}): Promise<Uint8Array> {
  const absolute = resolve(options.cwd ?? process.cwd(), file);
  const fail = (problem: SourceProblem): never => {
    throw new ConfigError([{ file, ...problem }]);
  };
  if (options.root !== undefined && !isInsideRoot(options.root, absolute)) {
    const { message, hint } = outsideRootProblem(`the pipeline file "${file}"`);
    fail(fileProblem(message, hint));
  }
  let size: number;
  try {
    const info = await stat(absolute);
    if (!info.isFile()) {
      const what = info.isDirectory() ? 'a directory' : 'not a regular file (a device, a FIFO or a socket)';
      fail(fileProblem(`is ${what}, not a pipeline file`, 'give the path of a pipeline .yaml file'));
    }
    size = info.size;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([
      {
        file,
        ...fileProblem(
          code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? String(error)})`,
          code === 'ENOENT' ? `check the path (looked for ${absolute})` : 'check the path and its permissions',
        ),
      },
    ]);
  }
  // Refuse before reading: a 5 GB file must not be loaded into memory to be told it is too big.
  if (size > MAX_PIPELINE_BYTES) fail(tooLarge(size));
  try {
    return await readFile(absolute);
  } catch (error) {
    // stat said a file, yet reading it failed: no permission (EACCES), an I/O error, a file
    // removed in between. The user's to fix, not a bug: a positioned problem, exit 2.
    const code = (error as NodeJS.ErrnoException).code;
    const hint = code === 'EACCES' || code === 'EPERM' ? 'check the permissions of the file' : 'check the file';
    throw new ConfigError([{ file, ...fileProblem(`cannot read the file (${code ?? String(error)})`, hint) }]);
  }
}

/**
 * The load of a file's bytes (as readPipelineBytes read them). `record`, when given, is told every
 * file the load read, with its bytes, and every document it parsed: what the load depends on.
 */
export function loadPipelineBytes(
  bytes: Uint8Array,
  file: string,
  options: LoadOptions = {},
  record?: LoadRecorder,
): LoadedPipeline {
  const decoded = decodeSource(bytes);
  if ('problems' in decoded) throw new ConfigError(decoded.problems.map((p) => ({ file, ...p })));
  const includes = includeChecks(options.root, record);
  const loaded = loadFromString(decoded.text, file, options, includes);
  record?.read(loaded.file, bytes);
  // Every file the include walks read (pipeline-includes.ts) was also loaded, hence recorded, here.
  record?.walked(includes.memo.reads.keys());
  return loaded;
}

/** What a load depends on of the file system, as it reads it (see loadPipelineBytes). */
export interface LoadRecorder {
  /** A file the load read (absolute), with the bytes it read. */
  read(file: string, bytes: Uint8Array): void;
  /** A document the load parsed, with its file (absolute). */
  parsed(file: string, document: unknown): void;
  /** The files the include walks read, by absolute path. */
  walked(files: Iterable<string>): void;
}

function fileProblem(message: string, hint: string): SourceProblem {
  return { line: 1, col: 1, path: '', message, hint };
}

export function loadPipelineFromString(source: string, file: string, options: LoadOptions = {}): LoadedPipeline {
  return loadFromString(source, file, options, includeChecks(options.root, undefined));
}

/** loadPipelineFromString, with the checks of included files of the load it is part of. */
function loadFromString(source: string, file: string, options: LoadOptions, includes: IncludeChecks): LoadedPipeline {
  const absolute = resolve(options.cwd ?? process.cwd(), file);
  const dir = dirname(absolute);
  const parsed = parseSource(source);
  if (!parsed.ok) throw new ConfigError(parsed.problems.map((p) => ({ file, ...p })));
  const { data, locate } = parsed;
  includes.record?.parsed(absolute, data);

  const toDiagnostic = (problem: Problem): Diagnostic => {
    if (problem.elsewhere) {
      // In a pipeline file a `file:` step runs: named the way this file was (absolute or relative).
      const other = problem.elsewhere.file;
      return { ...problem.elsewhere, file: isAbsolute(file) ? other : relative(options.cwd ?? process.cwd(), other) };
    }
    const { line, col } = locate(problem.path, {
      ...(problem.at === undefined ? {} : { at: problem.at }),
      ...(problem.offset === undefined ? {} : { offset: problem.offset }),
    });
    return {
      file,
      line,
      col,
      path: formatPath(problem.path),
      message: problem.message,
      ...(problem.hint === undefined ? {} : { hint: problem.hint }),
    };
  };

  const result = Pipeline.safeParse(data);
  // Semantic and template checks need a well-typed pipeline; schema errors come first.
  const problems = result.success
    ? [
        ...semanticProblems(result.data, dir, [], {
          root: options.root,
          file: absolute,
          checkInclude: includes.check,
          memo: includes.memo,
        }),
        ...templateProblems(result.data, { dir, root: options.root, memo: includes.memo }),
      ]
    : zodProblems(result.error.issues, data);
  if (problems.length > 0 || !result.success) throw new ConfigError(sortDiagnostics(problems.map(toDiagnostic)));

  return {
    pipeline: result.data,
    file: absolute,
    shownAs: file,
    dir,
    ...(options.root === undefined ? {} : { root: options.root }),
    source,
    hash: canonicalHash(data),
    locate: (path, at) => locate(path, at),
  };
}

/** How one load checks the pipeline files its `file:` steps run, and the files those run in turn. */
interface IncludeChecks {
  check: IncludeCheck;
  memo: IncludeMemo;
  record?: LoadRecorder | undefined;
}

/**
 * The include checks of one load: each file is validated once, its diagnostics kept for every other
 * step that runs it — the files a file runs are validated with it, so validating it again for each
 * of its steps would cost (steps per file)^(depth) loads. Its diagnostics do not depend on who runs
 * it: positioned in the file itself, and its nesting from where it runs is counted by the includer's
 * walk (pipeline-includes.ts).
 */
function includeChecks(root: string | undefined, record: LoadRecorder | undefined): IncludeChecks {
  const checked = new Map<string, Diagnostic[]>();
  const includes: IncludeChecks = {
    memo: newIncludeMemo(),
    record,
    check: (file) => {
      const known = checked.get(file);
      if (known !== undefined) return known;
      // A file is checked only once its step's walk found no cycle through it; should it be asked for
      // again while it is being checked all the same, that is not followed without end.
      checked.set(file, []);
      const diagnostics = includedDiagnostics(file, root, includes);
      checked.set(file, diagnostics);
      return diagnostics;
    },
  };
  return includes;
}

/**
 * Validates a pipeline file that a `file:` step runs, as the step will load it (same root): its
 * diagnostics, positioned in it (file absolute), or none. Synchronous, like the checks that call
 * it; the file was found to be a regular file within the size limit (pipeline-includes.ts).
 */
function includedDiagnostics(file: string, root: string | undefined, includes: IncludeChecks): Diagnostic[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return [
      {
        file,
        ...fileProblem(`cannot read the file (${code ?? String(error)})`, 'check the file and its permissions'),
      },
    ];
  }
  const decoded = decodeSource(bytes);
  if ('problems' in decoded) return decoded.problems.map((p) => ({ file, ...p }));
  includes.record?.read(file, bytes);
  try {
    loadFromString(decoded.text, file, root === undefined ? {} : { root }, includes);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.diagnostics;
    throw error;
  }
}

/** In source order (this file's first, then each other file's), each reported once. */
function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const files = [...new Set(diagnostics.map((d) => d.file))];
  return diagnostics
    .filter((d) => {
      const key = `${d.file}:${d.line}:${d.col}:${d.path}:${d.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line || a.col - b.col);
}
