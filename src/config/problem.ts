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
}
