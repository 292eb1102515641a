// The provider a step type's calls go to (`llm` names its own with `provider:`): one table for the
// loader's checks and for the engine's key check and provider resolution.
import type { LlmStepType } from './schema.js';

export const PROVIDER_OF_TYPE: Readonly<Record<Exclude<LlmStepType, 'llm'>, string>> = {
  claude: 'anthropic',
  gemini: 'gemini',
  gemini_structured: 'gemini',
  gemini_function: 'gemini',
  openai: 'openai',
  mock: 'mock',
};

/** The provider a step type implies; undefined for `llm` and for a type that is no call. */
export function providerOfType(type: string): string | undefined {
  return Object.hasOwn(PROVIDER_OF_TYPE, type) ? PROVIDER_OF_TYPE[type as keyof typeof PROVIDER_OF_TYPE] : undefined;
}
