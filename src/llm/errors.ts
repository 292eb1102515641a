// The ways the call loop gives up. Each is typed so that the engine can route it: a
// MaxTurnsExceededError goes to the step's `fallback` (the "emergent fallback").
import { ElexirionError } from '../errors.js';

/** The answer still did not validate against the step's schema after `max_repairs` re-asks. */
export class StructuredOutputError extends ElexirionError {
  readonly errors: string[];
  /** The last text the model gave, for the journal and the report (not for the retry policy). */
  readonly lastText: string;
  readonly attempts: number;

  constructor(errors: string[], lastText: string, attempts: number) {
    super(`the answer did not match the schema after ${attempts} attempt(s): ${errors.join('; ')}`, {
      hint: 'make the prompt state the expected JSON shape, loosen the schema, or raise max_repairs',
    });
    this.errors = errors;
    this.lastText = lastText;
    this.attempts = attempts;
  }
}

/** The model kept asking for tools beyond `max_turns` rounds. */
export class MaxTurnsExceededError extends ElexirionError {
  readonly maxTurns: number;

  constructor(maxTurns: number) {
    super(`the model was still calling tools after max_turns (${maxTurns}) rounds`, {
      hint: 'raise max_turns, or give the step a fallback to route this case to',
    });
    this.maxTurns = maxTurns;
  }
}

/**
 * The model declined to answer (OpenAI structured outputs send a `refusal` instead of content). Not
 * retried and not repaired: asking again would pay for the same refusal. The call was answered, so
 * its usage and cost count.
 */
export class RefusalError extends ElexirionError {
  /** The model's own words. */
  readonly refusal: string;
  readonly model: string;
  readonly retryable = false;

  /** `filtered`: the provider's content filter stopped the answer (no words of the model's). */
  constructor(refusal: string, model: string, filtered = false) {
    super(
      filtered
        ? `the provider's content filter stopped the answer of ${model}`
        : `the model refused to answer: ${refusal || '(no reason given)'}`,
      {
        hint: 'rephrase the prompt, or give the step a fallback to route refusals to',
      },
    );
    this.refusal = refusal;
    this.model = model;
  }
}
