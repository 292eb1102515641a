// ajv, loaded the first time a user's JSON Schema is checked (load time) or a value is validated
// against one (an answer, a tool's arguments), not when the CLI or the library is imported: most
// pipelines declare no schema, and ajv and its meta-schemas cost every start tens of milliseconds.
// ajv is CommonJS, so require() loads it synchronously and its callers keep their synchronous APIs.
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { requireOnUse } from '../require-on-use.js';

const ajv = requireOnUse<{ Ajv2020: typeof Ajv2020 }>('ajv/dist/2020.js');

/** The Ajv2020 class, loaded on the first call. */
export const ajv2020 = (): typeof Ajv2020 => ajv().Ajv2020;
