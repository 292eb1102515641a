// What a session has used so far, read from its assistant messages: the account of a session that
// ended without a result message (killed by its timeout, or a crash of the executable), which
// Claude Code never reports. Every model call counts, subagents' too. Claude Code streams a call's
// content blocks as separate messages with one message id and the usage so far, so each call is
// counted once, at the largest usage seen for it.
import type { SDKAssistantMessage } from '@anthropic-ai/claude-agent-sdk';
import { type CacheCreationUsage, cacheWrite1hOf } from '../anthropic-usage.js';
import type { Usage } from '../provider.js';
import { addUsage } from '../usage.js';
import type { SpentSoFar } from './errors.js';

/** How the caller prices a model call (the engine's price table): null when the model is unknown. */
export type SessionPrice = (model: string, usage: Usage) => number | null;

/**
 * The model Claude Code names on assistant messages it makes itself — an API error's text, "Not
 * logged in" — for which no call was made: nothing was paid, and nothing is unpriced.
 */
const SYNTHETIC_MODEL = '<synthetic>';

interface CallUsage {
  model: string;
  /** A call of the main loop (a turn of the session), not of a subagent. */
  main: boolean;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  /** Of cacheWrite, the 1-hour writes (priced higher than the 5-minute ones). */
  cacheWrite1h: number;
}

export class SessionMeter {
  private readonly calls = new Map<string, CallUsage>();
  private sessionId: string | undefined;

  constructor(private readonly price?: SessionPrice) {}

  add(message: SDKAssistantMessage): void {
    this.sessionId ??= message.session_id;
    const { id, model } = message.message;
    if (model === SYNTHETIC_MODEL) return;
    const u = (message.message.usage ?? {}) as unknown as Partial<Record<string, number | null>>;
    const seen = this.calls.get(id);
    this.calls.set(id, {
      model: model ?? seen?.model ?? 'unknown',
      main: seen?.main ?? message.parent_tool_use_id === null,
      input: Math.max(seen?.input ?? 0, u.input_tokens ?? 0),
      output: Math.max(seen?.output ?? 0, u.output_tokens ?? 0),
      cacheRead: Math.max(seen?.cacheRead ?? 0, u.cache_read_input_tokens ?? 0),
      cacheWrite: Math.max(seen?.cacheWrite ?? 0, u.cache_creation_input_tokens ?? 0),
      cacheWrite1h: Math.max(seen?.cacheWrite1h ?? 0, cacheWrite1hOf(message.message.usage as CacheCreationUsage)),
    });
  }

  /**
   * Output tokens of the model calls seen so far (subagents' included), each call at the largest
   * count its messages reported: what the step's `max_tokens` is held to.
   */
  outputTokens(): number {
    let total = 0;
    for (const call of this.calls.values()) total += call.output;
    return total;
  }

  /**
   * What the model calls seen so far used, priced call by call by the caller's price table. A call
   * it cannot price (a model it does not know, or no price given) is counted in `unpricedCalls`
   * and leaves the cost of the others known — a subagent on an unlisted model must not make what
   * the main model was paid unknown. The cost is null only when no call was priced; the whole is
   * undefined when no call was seen.
   */
  spent(): SpentSoFar | undefined {
    if (this.calls.size === 0) return undefined;
    let usage: Usage = { inputTokens: 0, outputTokens: 0 };
    let knownCostUsd = 0;
    let unpricedCalls = 0;
    let turns = 0;
    for (const call of this.calls.values()) {
      if (call.main) turns++;
      const one = usageOf(call);
      usage = addUsage(usage, one);
      const cost = this.price?.(call.model, one) ?? null;
      if (cost === null) unpricedCalls++;
      else knownCostUsd += cost;
    }
    return {
      usage,
      costUsd: unpricedCalls === this.calls.size ? null : knownCostUsd,
      ...(unpricedCalls > 0 ? { unpricedCalls } : {}),
      // As Claude Code counts them: the main loop's calls (a subagent's are paid, not turns).
      numTurns: turns,
      ...(this.sessionId === undefined ? {} : { sessionId: this.sessionId }),
    };
  }
}

/** Our Usage counts cache reads and writes inside the input tokens (the API reports them apart). */
function usageOf(call: CallUsage): Usage {
  const usage: Usage = {
    inputTokens: call.input + call.cacheRead + call.cacheWrite,
    outputTokens: call.output,
  };
  if (call.cacheRead > 0) usage.cacheReadTokens = call.cacheRead;
  if (call.cacheWrite > 0) usage.cacheWriteTokens = call.cacheWrite;
  const oneHour = Math.min(call.cacheWrite1h, call.cacheWrite);
  if (oneHour > 0) usage.cacheWrite1hTokens = oneHour;
  return usage;
}
