// The pipeline format as one zod schema: the single source of truth for what a pipeline may say.
// It is deliberately free of transforms and defaults, so that the JSON Schema generated from it
// (`elexirion schema`) describes exactly what a user may write; the engine resolves defaults
// and durations itself (see ./resolve.ts and ./duration.ts).
import { z } from 'zod';

/** `250ms`, `30s`, `5m`, `1h`, `1.5s`, or a non-negative number of milliseconds. */
export const DURATION_PATTERN = /^\d+(\.\d+)?(ms|s|m|h)$/;
export const Duration = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(DURATION_PATTERN, 'a duration such as 250ms, 30s, 5m or 1h'),
  ])
  .meta({ description: 'A duration: 250ms, 30s, 5m, 1h, or a number of milliseconds.' });

/**
 * The longest delay Node.js's timers hold: 2^31-1 ms (about 596h, 24.8 days). A longer one fires
 * after 1 ms, so that a timeout of `1000h` would time a step out at once.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** Milliseconds of a duration string that matches DURATION_PATTERN (duration.ts rounds the same way). */
function durationTextMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  return match ? Math.round(Number(match[1]) * (DURATION_UNIT_MS[match[2] as string] as number)) : 0;
}
/**
 * A duration that becomes a timer (`timeout`, `latency`, `base_delay`, `max_delay`,
 * `recovery_timeout`): at most MAX_TIMER_MS, checked at load time. A number over it is zod's
 * `too_big`, a string over it a `custom` issue with `params.timer` (zod-problems.ts words both).
 */
export const TimerDuration = z
  .union([
    z.number().int().nonnegative().max(MAX_TIMER_MS),
    z
      .string()
      .regex(DURATION_PATTERN, 'a duration such as 250ms, 30s, 5m or 1h')
      .refine((text) => durationTextMs(text) <= MAX_TIMER_MS, {
        message: 'longer than the longest timer Node.js can hold',
        params: { timer: true },
      }),
  ])
  .meta({
    description: 'A duration of at most 596h: 250ms, 30s, 5m, 1h, or a number of milliseconds (at most 2147483647).',
  });

/** Names of pipelines, steps, inputs, variables and outputs: usable as template identifiers. */
export const IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_]*$/;
export const PIPELINE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;
const Identifier = z.string().regex(IDENTIFIER_PATTERN, 'a lower-case identifier: [a-z_][a-z0-9_]*');

/** A Liquid template (`{{ … }}`, `{% … %}`), or plain text. */
const Template = z.string().meta({ description: 'Text, optionally with Liquid templates ({{ … }}).' });

/** A JSON Schema document, validated with ajv at load time (not by zod: it is the user's schema). */
const JsonSchema = z.record(z.string(), z.unknown()).meta({ description: 'A JSON Schema (draft 2020-12).' });

export const BUILTIN_PROVIDERS = ['anthropic', 'gemini', 'openai', 'mock'] as const;
export type BuiltinProvider = (typeof BUILTIN_PROVIDERS)[number];
/** A provider: one of the built-ins, or a name declared under `providers:` with a `type`. */
const ProviderName = Identifier;

export const Retry = z.strictObject({
  max_attempts: z.number().int().min(1).max(100).optional(),
  base_delay: TimerDuration.optional(),
  max_delay: TimerDuration.optional(),
  jitter: z.boolean().optional(),
});

export const Cache = z.union([z.boolean(), z.strictObject({ ttl: Duration.optional() })]);

export const OnError = z.enum(['fail', 'continue', 'fallback']);

export const InputType = z.enum(['string', 'number', 'integer', 'boolean', 'array', 'object']);
export const Input = z.strictObject({
  type: InputType,
  description: z.string().optional(),
  default: z.unknown().optional(),
  required: z.boolean().optional(),
  enum: z.array(z.unknown()).optional(),
});

/** Tool declared in YAML: a built-in by name (`read_file`), or a module next to the pipeline. */
export const BUILTIN_TOOLS = ['read_file', 'list_files'] as const;
export const Tool = z.union([
  z.enum(BUILTIN_TOOLS),
  z.strictObject({
    name: Identifier,
    description: z.string(),
    parameters: JsonSchema.optional(),
    module: z.string().optional().meta({ description: 'A JS module, relative to the pipeline file.' }),
    export: z.string().optional().meta({ description: 'The export of `module` to call; default: the tool name.' }),
  }),
]);

export const Message = z.strictObject({
  role: z.enum(['user', 'assistant']),
  content: Template,
});

/** Keys every step accepts. */
const stepCommon = {
  name: Identifier,
  description: z.string().optional(),
  when: Template.optional().meta({ description: 'Run the step only when this template renders truthy.' }),
  timeout: TimerDuration.optional(),
  retry: Retry.optional(),
  cache: Cache.optional(),
  on_error: OnError.optional(),
  stream: z.boolean().optional(),
};

/** Keys of a call to a model (every LLM step type, a batch template, a fallback). */
const llmCall = {
  provider: ProviderName.optional(),
  model: z.string().min(1).optional(),
  prompt: Template.optional(),
  system: Template.optional(),
  messages: z.array(Message).optional(),
  max_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().min(0).max(1).optional(),
  stop: z.array(z.string()).optional(),
  schema: JsonSchema.optional(),
  max_repairs: z.number().int().min(0).max(10).optional(),
  tools: z.array(Tool).optional(),
  max_turns: z.number().int().positive().optional(),
  generation_config: z.record(z.string(), z.unknown()).optional().meta({ description: 'Gemini generationConfig.' }),
  base_url: z.string().url().optional().meta({ description: 'OpenAI-compatible endpoint (Ollama, vLLM, …).' }),
};

/** Keys only the mock provider reads. */
const mockCall = {
  response: z.union([Template, z.record(z.string(), z.unknown())]).optional(),
  latency: TimerDuration.optional(),
  fail_first: z.number().int().nonnegative().optional(),
};

export const LLM_STEP_TYPES = [
  'claude',
  'gemini',
  'openai',
  'llm',
  'gemini_structured',
  'gemini_function',
  'mock',
] as const;
export type LlmStepType = (typeof LLM_STEP_TYPES)[number];

/** A fallback: another provider/model for the same call, or a whole other call (`type` + prompt …). */
export const Fallback = z.strictObject({
  type: z.enum(LLM_STEP_TYPES).optional(),
  ...llmCall,
  ...mockCall,
  timeout: TimerDuration.optional(),
});

const fallbackKey = { fallback: z.union([Fallback, z.array(Fallback).min(1)]).optional() };

const llmStep = <T extends LlmStepType>(type: T) =>
  z.strictObject({ type: z.literal(type), ...stepCommon, ...fallbackKey, ...llmCall, ...mockCall });

export const ClaudeStep = llmStep('claude');
export const GeminiStep = llmStep('gemini');
export const OpenAIStep = llmStep('openai');
export const LlmStep = llmStep('llm');
export const GeminiStructuredStep = llmStep('gemini_structured');
export const GeminiFunctionStep = llmStep('gemini_function');
export const MockStep = llmStep('mock');

/** A name `pass_env:` and `env:` of a claude_code step may hold. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const ClaudeCodeStep = z.strictObject({
  type: z.literal('claude_code'),
  ...stepCommon,
  ...fallbackKey,
  prompt: Template,
  system: Template.optional(),
  model: z.string().optional(),
  cwd: Template.optional(),
  allowed_tools: z.array(z.string()).optional(),
  max_turns: z.number().int().positive().optional(),
  permission_mode: z.enum(['default', 'acceptEdits', 'bypassPermissions', 'plan']).optional(),
  setting_sources: z
    .array(z.enum(['user', 'project', 'local']))
    .optional()
    .meta({
      description:
        "Claude Code settings files the session loads: user (~/.claude/settings.json), project (the cwd's .claude/settings.json and CLAUDE.md), local (.claude/settings.local.json). None by default: a loaded file's hooks run and its permissions and env apply.",
    }),
  executable: z.string().optional().meta({ description: 'Path to the Claude Code executable.' }),
  max_cost_usd: z.number().positive().optional().meta({
    description:
      'The most this session may spend (Claude Code stops it there); under a run budget, what it holds of it while it runs.',
  }),
  max_tokens: z.number().int().positive().optional().meta({
    description:
      "Elexirion stops the session once the output tokens of its model calls (subagents' included) go past this many.",
  }),
  pass_env: z.array(z.string().regex(ENV_NAME, 'an environment variable name')).optional().meta({
    description:
      "Variables of Elexirion's environment the session also sees (it is started with only the basics and Claude Code's own).",
  }),
  env: z
    .record(z.string().regex(ENV_NAME, 'an environment variable name'), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .meta({ description: "Variables set in the session's environment: literal values, never keys (use pass_env)." }),
});

/** The template a batch maps over its items: any LLM call, typed. */
export const StepTemplate = z.strictObject({
  type: z.enum(LLM_STEP_TYPES),
  ...llmCall,
  ...mockCall,
  timeout: TimerDuration.optional(),
  retry: Retry.optional(),
  cache: Cache.optional(),
  ...fallbackKey,
});

const batchStep = <T extends 'batch' | 'claude_batch'>(type: T) =>
  z.strictObject({
    type: z.literal(type),
    ...stepCommon,
    items: z.union([Template, z.array(z.unknown())]),
    batch_size: z.number().int().positive().optional(),
    max_parallel: z.number().int().positive().max(10_000).optional(),
    on_item_error: z.enum(['fail', 'continue']).optional(),
    step_template: StepTemplate,
  });
export const BatchStep = batchStep('batch');
export const ClaudeBatchStep = batchStep('claude_batch');

export const SetVariableStep = z.strictObject({
  type: z.literal('set_variable'),
  ...stepCommon,
  variables: z.record(Identifier, z.unknown()),
});

const parallelBase = z.strictObject({
  type: z.literal('parallel'),
  ...stepCommon,
  max_parallel: z.number().int().positive().optional(),
});
const pipelineStepBase = z.strictObject({
  type: z.literal('pipeline'),
  ...stepCommon,
  file: z.string().optional().meta({ description: 'A pipeline file, relative to this one.' }),
  inputs: z.record(Identifier, z.unknown()).optional(),
});

// `parallel` holds steps and `pipeline` holds a pipeline: the format is recursive, so these two
// types are spelt out by hand (TypeScript cannot infer a type from its own initializer).
export type ParallelStep = z.infer<typeof parallelBase> & { steps: Step[] };
export type PipelineStep = z.infer<typeof pipelineStepBase> & { pipeline?: Pipeline };
type LeafStep =
  | z.infer<typeof ClaudeStep>
  | z.infer<typeof GeminiStep>
  | z.infer<typeof OpenAIStep>
  | z.infer<typeof LlmStep>
  | z.infer<typeof GeminiStructuredStep>
  | z.infer<typeof GeminiFunctionStep>
  | z.infer<typeof MockStep>
  | z.infer<typeof ClaudeCodeStep>
  | z.infer<typeof BatchStep>
  | z.infer<typeof ClaudeBatchStep>
  | z.infer<typeof SetVariableStep>;
export type Step = LeafStep | ParallelStep | PipelineStep;

export const ParallelStep = parallelBase.extend({
  steps: z.array(z.lazy((): z.ZodType<Step> => Step)).min(1),
});
export const PipelineStep = pipelineStepBase.extend({
  pipeline: z.lazy((): z.ZodType<Pipeline> => Pipeline).optional(),
});

export const Step = z.discriminatedUnion('type', [
  ClaudeStep,
  GeminiStep,
  OpenAIStep,
  LlmStep,
  GeminiStructuredStep,
  GeminiFunctionStep,
  MockStep,
  ClaudeCodeStep,
  BatchStep,
  ClaudeBatchStep,
  ParallelStep,
  PipelineStep,
  SetVariableStep,
]);

export const STEP_TYPES = [
  ...LLM_STEP_TYPES,
  'claude_code',
  'batch',
  'claude_batch',
  'parallel',
  'pipeline',
  'set_variable',
] as const;
export type StepType = (typeof STEP_TYPES)[number];

export const Price = z.strictObject({
  input: z.number().nonnegative().meta({ description: 'USD per million input tokens.' }),
  output: z.number().nonnegative().meta({ description: 'USD per million output tokens.' }),
  cache_read: z.number().nonnegative().optional(),
  cache_write: z.number().nonnegative().optional(),
});

export const ProviderConfig = z.strictObject({
  type: z.enum(BUILTIN_PROVIDERS).optional().meta({ description: 'Needed when the name is not a built-in provider.' }),
  base_url: z.string().url().optional(),
  api_key_env: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name')
    .optional()
    .meta({ description: 'The environment variable holding the key (keys never live in YAML).' }),
  max_concurrency: z.number().int().positive().optional(),
  max_queue: z.number().int().nonnegative().optional(),
  timeout: TimerDuration.optional(),
  circuit_breaker: z
    .strictObject({
      failure_threshold: z.number().int().positive().optional(),
      recovery_timeout: TimerDuration.optional(),
    })
    .optional(),
  rate_limit: z
    .strictObject({
      requests_per_minute: z.number().positive().optional(),
      tokens_per_minute: z.number().positive().optional(),
    })
    .optional(),
  prices: z.record(z.string(), Price).optional().meta({ description: 'Per-model prices that override the table.' }),
});

export const Defaults = z.strictObject({
  provider: ProviderName.optional(),
  model: z.string().min(1).optional(),
  timeout: TimerDuration.optional(),
  retry: Retry.optional(),
  cache: Cache.optional(),
  on_error: OnError.optional(),
  max_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_repairs: z.number().int().min(0).max(10).optional(),
  stream: z.boolean().optional(),
});

export const Budget = z.strictObject({
  max_cost_usd: z.number().nonnegative().optional(),
  max_tokens: z.number().int().nonnegative().optional(),
});

export interface Pipeline {
  $schema?: string;
  name: string;
  description?: string;
  version?: string | number;
  inputs?: Record<string, Input>;
  variables?: Record<string, unknown>;
  defaults?: Defaults;
  providers?: Record<string, ProviderConfig>;
  budget?: z.infer<typeof Budget>;
  steps: Step[];
  outputs?: Record<string, unknown>;
}

export const Pipeline: z.ZodType<Pipeline> = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string().regex(PIPELINE_NAME_PATTERN, 'lower-case letters, digits, - and _'),
    description: z.string().optional(),
    version: z.union([z.string(), z.number()]).optional(),
    inputs: z.record(Identifier, Input).optional(),
    variables: z.record(Identifier, z.unknown()).optional(),
    defaults: Defaults.optional(),
    providers: z.record(ProviderName, ProviderConfig).optional(),
    budget: Budget.optional(),
    steps: z.array(Step).min(1),
    outputs: z.record(Identifier, z.unknown()).optional(),
  })
  .meta({ id: 'Pipeline', title: 'Elexirion pipeline' });

export type StepTemplate = z.infer<typeof StepTemplate>;
export type Fallback = z.infer<typeof Fallback>;
export type Input = z.infer<typeof Input>;
export type Retry = z.infer<typeof Retry>;
export type Cache = z.infer<typeof Cache>;
export type Tool = z.infer<typeof Tool>;
export type ProviderConfig = z.infer<typeof ProviderConfig>;
export type Defaults = z.infer<typeof Defaults>;
export type Duration = z.infer<typeof Duration>;
export type LlmStep = Extract<Step, { type: LlmStepType }>;
export type BatchStep = Extract<Step, { type: 'batch' | 'claude_batch' }>;
export type SetVariableStep = Extract<Step, { type: 'set_variable' }>;
export type ClaudeCodeStep = Extract<Step, { type: 'claude_code' }>;
