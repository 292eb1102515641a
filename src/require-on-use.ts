// CommonJS packages only some paths need (ajv, pg, prom-client, the OpenTelemetry SDK), loaded the
// first time one is used rather than when the module naming them is imported: every command's and
// the library's start-up would pay for them. require() loads synchronously, so callers keep their
// synchronous APIs; an `import type` of the package keeps them typed.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A getter of `specifier`'s module: required on its first call, the same module after. */
export function requireOnUse<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= require(specifier) as T;
    return loaded;
  };
}
