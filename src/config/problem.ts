import type { Diagnostic } from '../errors.js';
import type { DocPath } from './path.js';

/**
 * One problem found in a pipeline, before it is given a file position. Checks produce problems;
 * the loader locates them in the YAML source and turns them into Diagnostics.
 */
export interface Problem {
  path: DocPath;
  message: string;
  hint?: string;
  /** Point at the key itself (an unknown or misspelt key) rather than at its value. */
  at?: 'key' | 'value';
  /** A character offset inside the string value at `path` (a template error). */
  offset?: number;
  /**
   * Found in another file — a pipeline that a `file:` step runs — and already positioned there
   * (its file absolute): reported at that place, not at `path`.
   */
  elsewhere?: Diagnostic;
}

/** The diagnostics of a pipeline file a `file:` step runs (absolute), loaded as its step loads it. */
export type IncludeCheck = (file: string) => Diagnostic[];
