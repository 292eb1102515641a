// The templating API: run-time rendering for the engine, load-time checks for the loader.
export { checkTemplates, type TemplateIssue } from './check.js';
export { CUSTOM_FILTERS } from './liquid.js';
export { clearParseCache, parseCacheStats } from './parse-cache.js';
export { listReferences, type Reference } from './references.js';
export { evaluateCondition, isTemplate, renderDeep, renderString, renderValue } from './render.js';
export {
  buildScope,
  RUN_FIELDS,
  type RunView,
  type ScopeParts,
  STEP_FIELDS,
  type StepView,
  type TemplateScope,
} from './scope.js';
export { TemplateError } from './template-error.js';
