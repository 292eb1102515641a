// Typed events: the engine's `:telemetry.execute`. Progress output, the journal's event log,
// metrics, traces and the HTTP stream are all subscribers; none of them is called directly.
import type { RunStatus, StepStatus } from '../journal/store.js';
import type { Usage } from '../providers/provider.js';

export interface EventMap {
  'pipeline.execution.start': { runId: string; pipeline: string; resumed: boolean; steps: number };
  'pipeline.execution.stop': {
    runId: string;
    pipeline: string;
    status: RunStatus;
    durationMs: number;
    costUsd: number;
    inputTokens: number;
    outputTokens: number;
    error?: string;
  };
  'pipeline.step.start': { runId: string; step: string; type: string; index: number };
  'pipeline.step.stop': {
    runId: string;
    step: string;
    type: string;
    status: StepStatus;
    durationMs: number;
    usage: Usage;
    costUsd: number | null;
    attempts: number;
    /** The step was finished in an earlier attempt of the run and taken from the journal. */
    fromJournal: boolean;
    error?: string;
  };
  'pipeline.step.chunk': {
    runId: string;
    step: string;
    text: string;
    /**
     * The text streamed for this step so far is void: an attempt cut off mid-answer is retried, or
     * the step falls back to another call. Its `text` is ''; the chunks that follow are the step's
     * text again from its start (a consumer clears what it shows, or marks the break).
     */
    reset?: true;
  };
  'pipeline.step.progress': {
    runId: string;
    step: string;
    /** Finished items, the failed ones included. */
    done: number;
    failed: number;
    total: number;
    /** Estimated time to the last item, from the pace so far (absent before the first item ends). */
    etaMs?: number;
  };
  'pipeline.provider.request': {
    runId: string;
    step: string;
    provider: string;
    /** The provider's type (`anthropic`, `openai`, `gemini`, `mock`), when known: see below. */
    providerType?: string;
    model: string;
    attempt: number;
  };
  'pipeline.provider.response': {
    runId: string;
    step: string;
    /** The provider's name as the pipeline calls it: a built-in's, or one it declares (`fast`). */
    provider: string;
    /**
     * Its type — the vendor's protocol it speaks (`fast` may be `openai`) — when known: spans name
     * the provider by it, as the GenAI conventions want (`gen_ai.provider.name`). `mock` in a mocked run.
     */
    providerType?: string;
    /**
     * The model asked for; a claude_code session's names the model the session reported (its step
     * may name none: its request says `default`), as its metrics and journal record always have.
     */
    model: string;
    /**
     * The model that answered, as the provider names it (`gpt-4o-2024-08-06` for `gpt-4o`), only when
     * it is not `model` (the journal keeps every event: no bytes when they agree — the mock's, and
     * calls that name a dated model; an alias answered by a snapshot costs its ~30 bytes).
     */
    responseModel?: string;
    durationMs: number;
    usage: Usage;
    costUsd: number | null;
    cached: boolean;
    error?: string;
    /**
     * With `error`: what kind of failure — a ProviderError's kind (`rate_limited`, `auth`, `timeout`…),
     * else the error's name (`BudgetExceededError`…). Spans carry it as `error.type`.
     */
    errorKind?: string;
  };
  'pipeline.provider.retry': {
    runId: string;
    step: string;
    provider: string;
    attempt: number;
    delayMs: number;
    reason: string;
  };
  'pipeline.provider.circuit': { provider: string; state: 'closed' | 'open' | 'half_open' };
  'pipeline.provider.queued': { provider: string; inFlight: number; queued: number };
  'pipeline.cache.hit': { runId: string; step: string; provider: string; model: string; costSavedUsd: number };
}

export type EventType = keyof EventMap;

/**
 * The stops: journaled in one transaction with the state they report (a step's result, a run's
 * final record) and emitted on the bus only after that commit — so their journal seq and `at` are
 * not those of the moment they are emitted. The engine's journal subscriber skips them, the run
 * keeps their seq apart, and the cluster's live merge matches them by type alone.
 */
export const JOURNALED_WITH_THEIR_STATE: ReadonlySet<string> = new Set([
  'pipeline.step.stop',
  'pipeline.execution.stop',
]);
export type ElexirionEvent = { [K in EventType]: { type: K; at: number; data: EventMap[K] } }[EventType];
