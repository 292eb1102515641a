// The call loop above a single model call: structured output with repair, tools, streaming, usage.
export { MaxTurnsExceededError, RefusalError, StructuredOutputError } from './errors.js';
export { type CallOptions, type ModelCaller, providerCaller } from './model-caller.js';
export {
  DEFAULT_MAX_REPAIRS,
  DEFAULT_MAX_TURNS,
  type LlmCallOptions,
  type LlmCallResult,
  runLlmCall,
  type ToolCallRecord,
} from './run-llm-call.js';
export { schemaErrors } from './schema-validator.js';
export { BUILTIN_TOOL_SPECS, builtinTools } from './tools/builtin-tools.js';
export { type ResolvedTools, resolveTools } from './tools/resolve-tools.js';
export { type ToolContext, ToolError, type ToolImplementation, type ToolImplementations } from './tools/tool-types.js';
export { Workspace } from './tools/workspace.js';
