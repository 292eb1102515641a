// What the load-time checks say of a pipeline, for tests of one check each: the diagnostics of a
// source the loader refuses, or an assertion that it loads.
import { expect } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { ConfigError, type Diagnostic } from '../../src/errors.js';

/** The diagnostics of `source` (as `p.yaml`); fails the test when it loads. */
export function diagnosticsOf(source: string): Diagnostic[] {
  try {
    loadPipelineFromString(source, 'p.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.diagnostics;
    throw error;
  }
  throw new Error('expected the pipeline to be rejected');
}

/** Asserts that `source` (as `p.yaml`) loads. */
export const loads = (source: string) => expect(() => loadPipelineFromString(source, 'p.yaml')).not.toThrow();
