// A cache of pipeline loads, for a process that loads the same files again and again (`serve`: each
// POST /runs names one). A load is a function of the bytes it read and of what it found of the files
// its pipelines name; a cached load is reused only when all of those are found as they were, and
// otherwise made again — an edit is picked up by the next load, a file gone or moved out of the root
// refused as before. Loads that fail are never kept: their files are being fixed.
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isInsideRoot } from './confine.js';
import {
  type LoadedPipeline,
  type LoadOptions,
  type LoadRecorder,
  loadPipelineBytes,
  readPipelineBytes,
} from './loader.js';

/** What a cached load found of each file a pipeline names, found again before it is reused. */
type Found = 'outside' | 'file' | 'other';

interface Entry {
  loaded: LoadedPipeline;
  /** The pipeline file itself, as it was read. */
  bytes: Uint8Array;
  /** Every pipeline file it runs (`file:` steps, and theirs), as each was read. */
  includes: Map<string, Uint8Array>;
  /** Every path its documents name (see namedPaths), with what was found there. */
  named: Map<string, Found>;
  /** What the entry holds, for the bound on the cache's size. */
  size: number;
}

/**
 * The keys whose string values name files (`file:` steps, tools' `module:`, claude_code's
 * `executable:`): the loader's checks look at what lies there (semantic-checks.ts checkFileExists).
 * Looked for anywhere in a document: a path that is not a file's costs a stat, one missed a stale load.
 */
const NAMING_KEYS = new Set(['file', 'module', 'executable']);

export interface LoadCacheOptions {
  /** Loads kept, the least recently used let go first (default 256). */
  maxEntries?: number;
  /** Bytes of pipeline source kept, in all (default 64 MiB): a large file's load holds its parse too. */
  maxBytes?: number;
}

export class PipelineLoadCache {
  /** Loads made (not reused): each a read of the files and every check. */
  loads = 0;
  /** Loads reused. */
  hits = 0;
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(options: LoadCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 256;
    this.maxBytes = options.maxBytes ?? 64 * 2 ** 20;
  }

  get size(): number {
    return this.entries.size;
  }

  /** loadPipeline(file, options), made again only when what it read or found has changed. */
  async load(file: string, options: LoadOptions = {}): Promise<LoadedPipeline> {
    // The file is read, and checked before it is read, each time: its bytes decide.
    const bytes = await readPipelineBytes(file, options);
    // The options are part of the key: a load confined to one root is never another root's.
    const key = JSON.stringify([file, options.cwd ?? process.cwd(), options.root ?? null]);
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.forget(key, entry);
      if (unchanged(entry, bytes, options.root)) {
        this.hits++;
        this.keep(key, entry);
        return entry.loaded;
      }
    }
    const recorded = recorder();
    // Synchronous from here: concurrent loads of a file not yet kept find it kept after the first.
    const loaded = loadPipelineBytes(bytes, file, options, recorded);
    this.loads++;
    const fresh = recorded.entry(freeze(loaded), bytes, options.root);
    if (fresh !== undefined) this.keep(key, fresh);
    return loaded;
  }

  private keep(key: string, entry: Entry): void {
    if (entry.size > this.maxBytes) return;
    this.entries.set(key, entry);
    this.bytes += entry.size;
    for (const [oldest, old] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.forget(oldest, old);
    }
  }

  private forget(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.size;
  }
}

/** Collects what one load read and parsed; `entry` makes its cache entry of it (undefined: not to keep). */
function recorder(): LoadRecorder & {
  entry(loaded: LoadedPipeline, bytes: Uint8Array, root: string | undefined): Entry | undefined;
} {
  const reads = new Map<string, Uint8Array>();
  const documents: { file: string; document: unknown }[] = [];
  let unseen = false;
  return {
    read: (file, bytes) => void reads.set(file, bytes),
    parsed: (file, document) => void documents.push({ file, document }),
    walked: (files) => {
      for (const file of files) if (!reads.has(file)) unseen = true;
    },
    entry: (loaded, bytes, root) => {
      // A file the checks read that the load did not record: what it depends on is not all known.
      if (unseen) return undefined;
      const includes = new Map([...reads].filter(([file]) => file !== loaded.file));
      const named = new Map<string, Found>();
      for (const { file, document } of documents) {
        for (const path of namedPaths(document, dirname(file))) named.set(path, found(path, root));
      }
      let size = bytes.length;
      for (const included of includes.values()) size += included.length;
      return { loaded, bytes, includes, named, size };
    },
  };
}

/** Whether a load would read and find all that the entry's load did: its reuse is that load. */
function unchanged(entry: Entry, bytes: Uint8Array, root: string | undefined): boolean {
  if (Buffer.compare(entry.bytes, bytes) !== 0) return false;
  // Before any file is read: one that is no longer a regular file inside the root is not read.
  for (const [path, was] of entry.named) if (found(path, root) !== was) return false;
  for (const [file, was] of entry.includes) {
    try {
      // The size first: a file grown huge is not read whole to be told it differs.
      if (statSync(file).size !== was.length || Buffer.compare(readFileSync(file), was) !== 0) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** What the loader's checks find at `path`: outside the root (not looked at), a regular file, or not. */
function found(path: string, root: string | undefined): Found {
  if (root !== undefined && !isInsideRoot(root, path)) return 'outside';
  try {
    return statSync(path).isFile() ? 'file' : 'other';
  } catch {
    return 'other';
  }
}

/** Every path a document names under NAMING_KEYS, resolved against its folder. */
function namedPaths(document: unknown, dir: string): Set<string> {
  const paths = new Set<string>();
  const seen = new Set<object>();
  const visit = (node: unknown): void => {
    if (typeof node !== 'object' || node === null || seen.has(node)) return;
    seen.add(node);
    for (const [key, value] of Object.entries(node)) {
      if (typeof value === 'string' && NAMING_KEYS.has(key)) paths.add(resolve(dir, value));
      else visit(value);
    }
  };
  visit(document);
  return paths;
}

/**
 * A kept load is shared by every run of its file: frozen, so that whatever touched one run's
 * pipeline would throw instead of changing the next runs'.
 */
function freeze(loaded: LoadedPipeline): LoadedPipeline {
  const deep = (value: unknown): void => {
    if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
    Object.freeze(value);
    for (const inner of Object.values(value)) deep(inner);
  };
  deep(loaded.pipeline);
  return Object.freeze(loaded);
}
