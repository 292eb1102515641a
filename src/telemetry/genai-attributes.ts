// OpenTelemetry attribute names used on spans. The GenAI ones are still "incubating" in
// @opentelemetry/semantic-conventions (exported only from its unstable entry point), so they are
// spelled out here, as the specification names them.
export const GEN_AI = {
  /** Replaced by `gen_ai.provider.name` in the conventions; still set, for backends that read only it. */
  system: 'gen_ai.system',
  providerName: 'gen_ai.provider.name',
  operationName: 'gen_ai.operation.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
} as const;

export const ELEXIRION = {
  runId: 'elexirion.run.id',
  pipeline: 'elexirion.pipeline',
  /** The provider's name as the pipeline calls it (`fast`); gen_ai.provider.name has the vendor's. */
  provider: 'elexirion.provider',
  step: 'elexirion.step.name',
  stepType: 'elexirion.step.type',
  status: 'elexirion.status',
  costUsd: 'elexirion.cost_usd',
  // A run's and a step's tokens: not gen_ai.usage.*, which only the provider-call spans carry, since
  // a backend adds gen_ai.usage up over a trace's spans (a run's would count each token three times).
  inputTokens: 'elexirion.usage.input_tokens',
  outputTokens: 'elexirion.usage.output_tokens',
  cached: 'elexirion.cache_hit',
  attempts: 'elexirion.attempts',
  resumed: 'elexirion.resumed',
  // The items of a batch a cluster chunk job runs (its span's; inclusive, as error messages name them).
  chunkFirstItem: 'elexirion.chunk.first_item',
  chunkLastItem: 'elexirion.chunk.last_item',
} as const;
