// Turns an LLM step (or a batch's step_template, or a fallback merged into its step) into a
// provider-neutral ModelRequest: defaults inherited, templates rendered, vendor extras attached for
// the provider type they belong to (Gemini's generation_config, the mock's knobs).
import { parseDuration } from '../../config/duration.js';
import type { Defaults, Pipeline, StepTemplate } from '../../config/schema.js';
import type { ChatMessage, ModelRequest } from '../../providers/provider.js';
import { type ProviderType, providerType } from '../../providers/settings.js';
import { DEFAULT_MODELS, providerNameFor } from '../../providers/step-providers.js';
import { renderDeep, renderString } from '../../template/render.js';
import type { TemplateScope } from '../../template/scope.js';

/** The fields of a model call, whichever step shape they come from. */
export type LlmCall = Omit<StepTemplate, 'timeout' | 'retry' | 'cache' | 'fallback'>;

export function buildModelRequest(
  call: LlmCall,
  defaults: Defaults,
  scope: TemplateScope,
  options: { mock: boolean; providers?: Pipeline['providers'] },
): ModelRequest {
  const realProvider = providerNameFor(call, defaults.provider);
  const provider = options.mock ? 'mock' : realProvider;
  const type = typeOf(realProvider, options.providers);
  const model =
    call.model ??
    (inheritsModel(realProvider, defaults) ? defaults.model : undefined) ??
    defaultModelOf(realProvider, type, options.providers) ??
    'mock-1';

  const messages: ChatMessage[] = (call.messages ?? []).map((m) => ({
    role: m.role,
    content: renderString(m.content, scope),
  }));
  if (call.prompt !== undefined) messages.push({ role: 'user', content: renderString(call.prompt, scope) });

  const request: ModelRequest = { provider, model, messages };
  if (call.system !== undefined) request.system = renderString(call.system, scope);
  const maxTokens = call.max_tokens ?? defaults.max_tokens;
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  const temperature = call.temperature ?? defaults.temperature;
  if (temperature !== undefined) request.temperature = temperature;
  if (call.top_p !== undefined) request.topP = call.top_p;
  if (call.stop !== undefined) request.stop = call.stop;
  if (call.schema !== undefined) request.schema = call.schema;

  // Vendor-specific keys go only to their vendor: a fallback inherits every key of its step, and
  // Anthropic and OpenAI refuse a request with a field they do not know (a 400, every time).
  const extra: Record<string, unknown> = {};
  if (call.generation_config !== undefined && type === 'gemini') extra.generation_config = call.generation_config;
  if (provider === 'mock' || type === 'mock') {
    const mock: Record<string, unknown> = {};
    if (call.response !== undefined) mock.response = renderDeep(call.response, scope);
    if (call.latency !== undefined) mock.latencyMs = parseDuration(call.latency);
    if (call.fail_first !== undefined) mock.failFirst = call.fail_first;
    extra.mock = mock;
  }
  if (Object.keys(extra).length > 0) request.extra = extra;
  return request;
}

/**
 * The model of a call that names none: its vendor's default (DEFAULT_MODELS) for a built-in name or
 * a provider of the pipeline's own naming on a vendor's API. A provider on an endpoint of its own
 * (`base_url`: Ollama, vLLM, a gateway) has none — its server's model names are its own, and such a
 * call without a model is refused when the pipeline loads (config/call-models.ts).
 */
function defaultModelOf(
  name: string,
  type: ProviderType | undefined,
  providers: Pipeline['providers'],
): string | undefined {
  const builtIn = DEFAULT_MODELS[name as keyof typeof DEFAULT_MODELS];
  if (builtIn !== undefined || type === undefined || type === 'mock') return builtIn;
  if (providers?.[name]?.base_url !== undefined) return undefined;
  return DEFAULT_MODELS[type as keyof typeof DEFAULT_MODELS];
}

/** The type of a provider name (its declaration's, or the built-in's); undefined for an unknown name. */
function typeOf(name: string, providers: Pipeline['providers']): ProviderType | undefined {
  try {
    return providerType(name, providers?.[name]);
  } catch {
    return undefined; // an unknown provider: the call fails where the provider is made
  }
}

/**
 * Whether a call to `provider` takes `defaults.model`: a model names one vendor's model, so with a
 * `defaults.provider` only calls to that provider (and mock calls, which imitate any model) take
 * it — a `gemini` step of a pipeline whose defaults are Anthropic's gets Gemini's default model,
 * not a Claude model Gemini would refuse. Without a `defaults.provider` every call takes it.
 */
function inheritsModel(provider: string, defaults: Defaults): boolean {
  return defaults.provider === undefined || provider === defaults.provider || provider === 'mock';
}
