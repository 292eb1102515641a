// The `claude_code` step: an agentic Claude Code session (Claude Agent SDK) working in a directory
// with the tools the step allows. Its output is the session's final text; its usage and cost are
// what Claude Code reports. With --mock it answers like the mock provider and starts nothing.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BudgetExceededError, type BudgetReservation } from '../../budget/budget-guard.js';
import { estimateUsage } from '../../budget/estimate.js';
import { isInsideRoot, outsideRootError, realLocation } from '../../config/confine.js';
import type { ClaudeCodeStep } from '../../config/schema.js';
import { ElexirionError, ExitCode } from '../../errors.js';
import type { BudgetCap } from '../../providers/claude-code/budget-cap.js';
import { sessionEnvironment } from '../../providers/claude-code/environment.js';
import { ClaudeCodeBudgetError, ClaudeCodeError, ClaudeCodeMaxTurnsError } from '../../providers/claude-code/errors.js';
import { resolveClaudeExecutable } from '../../providers/claude-code/executable.js';
import { SessionMeter } from '../../providers/claude-code/meter.js';
import {
  type ClaudeCodeRequest,
  type ClaudeCodeResult,
  runClaudeCodeSession,
} from '../../providers/claude-code/session.js';
import type { ModelRequest, Usage } from '../../providers/provider.js';
import { renderString } from '../../template/render.js';
import type { TemplateScope } from '../../template/scope.js';
import { confinedRoot } from '../confined-root.js';
import { messageOf, StepTimeoutError } from '../errors.js';
import type { RunContext } from '../run-context.js';
import { type Spent, withSpent } from '../spent.js';
import type { StepExecution, StepHandler, StepOutcome } from '../step-handler.js';
import { executeLlmCall } from './llm.js';

/** The provider name claude_code sessions appear under in events and the journal. */
export const CLAUDE_CODE_PROVIDER = 'claude-code';
/**
 * The type of the provider its events name: a session talks to Anthropic's API, so its spans name
 * the vendor `anthropic` (gen_ai.provider.name), as a `claude` step's do; `claude-code` stays the
 * events' provider (elexirion.provider), which metrics and the journal group by.
 */
const CLAUDE_CODE_PROVIDER_TYPE = 'anthropic';
/** The model the mock answers as when the step names none. */
const MOCK_MODEL = 'claude-code';

export const claudeCodeHandler: StepHandler<ClaudeCodeStep> = {
  types: ['claude_code'],
  execute: (step, exec) => {
    if (exec.run.options.mock) return executeMocked(step, exec);
    if (exec.run.options.replay) return Promise.reject(notReplayable(step, exec.run.options.replay.file));
    return executeSession(step, exec);
  },
};

/**
 * --replay promises a run offline, from a cassette: a session would call the API for real (and act
 * on files). A cassette holds model calls, never a session (--record does not write them).
 */
function notReplayable(step: ClaudeCodeStep, file: string): ClaudeCodeError {
  return new ClaudeCodeError(
    `replay: claude_code step "${step.name}" cannot be answered from the cassette ${file} (a Claude Code session is never recorded)`,
    { hint: 'run the pipeline with --mock to answer claude_code steps offline, or without --replay' },
  );
}

async function executeSession(step: ClaudeCodeStep, exec: StepExecution): Promise<StepOutcome> {
  const { run, key, signal, scope } = exec;
  const request = buildRequest(step, run, scope);
  const { bus } = run.services;
  // A session reads files and runs commands: its texts may quote a `.env`. They reach no event, no
  // output, no later step unredacted (resilience/model-caller.ts does the same for model calls);
  // each streamed text is a whole block of a turn, so no secret is split between two of them.
  const { redact } = run.services.redaction;
  const model = request.model ?? 'default';
  const stream = step.stream ?? run.defaults.stream ?? run.options.stream ?? false;
  const budget = await spendingLimit(run, key, request, step.max_cost_usd);

  bus.emit('pipeline.provider.request', {
    runId: run.id,
    step: key,
    provider: CLAUDE_CODE_PROVIDER,
    providerType: CLAUDE_CODE_PROVIDER_TYPE,
    model,
    attempt: 1,
  });
  const t0 = performance.now();
  // What the session's model calls used, as they arrive: the bill of one stopped by its timeout.
  const meter = new SessionMeter((callModel, usage) => run.services.price('anthropic', callModel, usage));
  let result: ClaudeCodeResult;
  try {
    result = await runClaudeCodeSession(
      budget.maxBudgetUsd === undefined ? request : { ...request, maxBudgetUsd: budget.maxBudgetUsd },
      signal,
      {
        meter,
        step: key,
        ...(budget.cap === undefined ? {} : { budgetCap: budget.cap }),
        ...(step.max_tokens === undefined ? {} : { maxOutputTokens: step.max_tokens }),
        ...(stream
          ? { onText: (text) => bus.emit('pipeline.step.chunk', { runId: run.id, step: key, text: redact(text) }) }
          : {}),
      },
    );
  } catch (error) {
    // A session that failed part-way was still paid for: the budget must know, and the step's
    // record: its own timeout's error carries the bill there, and the runner keeps what a step
    // stopped from outside had spent (exec.bill).
    const spent =
      error instanceof ClaudeCodeError ||
      error instanceof ClaudeCodeMaxTurnsError ||
      error instanceof ClaudeCodeBudgetError
        ? error.spent
        : meter.spent();
    budget.settle(spent?.usage, spent?.costUsd);
    if (spent) {
      // One session is one call; its model calls of unknown price are counted apart from the cost.
      const bill: Spent = { usage: spent.usage, costUsd: spent.costUsd, calls: 1, attempts: 1, retries: 0 };
      if (spent.unpricedCalls) bill.unpricedCalls = spent.unpricedCalls;
      exec.bill?.(bill);
      if (error instanceof StepTimeoutError && error.step === key) withSpent(error, bill);
    }
    bus.emit('pipeline.provider.response', {
      runId: run.id,
      step: key,
      provider: CLAUDE_CODE_PROVIDER,
      providerType: CLAUDE_CODE_PROVIDER_TYPE,
      model,
      durationMs: performance.now() - t0,
      usage: spent?.usage ?? { inputTokens: 0, outputTokens: 0 },
      costUsd: spent === undefined ? 0 : spent.costUsd,
      cached: false,
      error: messageOf(error),
    });
    throw error;
  }
  budget.settle(result.usage, result.costUsd);
  bus.emit('pipeline.provider.response', {
    runId: run.id,
    step: key,
    provider: CLAUDE_CODE_PROVIDER,
    providerType: CLAUDE_CODE_PROVIDER_TYPE,
    model: result.model ?? model,
    durationMs: performance.now() - t0,
    usage: result.usage,
    costUsd: result.costUsd,
    cached: false,
  });
  return {
    output: redact(result.text),
    usage: result.usage,
    costUsd: result.costUsd,
    attempts: 1,
    details: {
      provider: CLAUDE_CODE_PROVIDER,
      model: result.model ?? request.model,
      // One session is one call in the run's totals, however many model turns it took.
      calls: 1,
      num_turns: result.numTurns,
      session_id: result.sessionId,
      cwd: request.cwd,
      ...(result.permissionDenials > 0 ? { permission_denials: result.permissionDenials } : {}),
    },
  };
}

/** --mock: the same deterministic answer the mock provider gives for this prompt; nothing is started. */
function executeMocked(step: ClaudeCodeStep, exec: StepExecution): Promise<StepOutcome> {
  return executeLlmCall(
    {
      type: 'mock',
      prompt: step.prompt,
      model: step.model ?? MOCK_MODEL,
      ...(step.system === undefined ? {} : { system: step.system }),
      ...(step.timeout === undefined ? {} : { timeout: step.timeout }),
      ...(step.cache === undefined ? {} : { cache: step.cache }),
      ...(step.stream === undefined ? {} : { stream: step.stream }),
    },
    exec,
  );
}

function buildRequest(step: ClaudeCodeStep, run: RunContext, scope: TemplateScope): ClaudeCodeRequest {
  const request: ClaudeCodeRequest = {
    prompt: renderString(step.prompt, scope),
    cwd: resolveCwd(step, run.loaded.dir, scope, confinedRoot(run)),
  };
  if (step.system !== undefined) request.system = renderString(step.system, scope);
  if (step.model !== undefined) request.model = step.model;
  if (step.allowed_tools !== undefined) request.allowedTools = step.allowed_tools;
  if (step.max_turns !== undefined) request.maxTurns = step.max_turns;
  if (step.permission_mode !== undefined) request.permissionMode = step.permission_mode;
  if (step.setting_sources !== undefined) request.settingSources = step.setting_sources;
  const executable = resolveClaudeExecutable(step.executable, run.services.env, run.loaded.dir);
  const root = confinedRoot(run);
  // The load refused an `executable:` outside the root; checked again where it would be started.
  if (
    root !== undefined &&
    step.executable !== undefined &&
    executable !== undefined &&
    !isInsideRoot(root, executable)
  )
    throw outsideRoot(step, `executable ${step.executable}`);
  if (executable !== undefined) request.executable = executable;
  request.env = environmentOf(step, run);
  return request;
}

/**
 * The session's whole environment: the basics and Claude Code's own variables, the Anthropic key
 * the pipeline names (`providers.anthropic.api_key_env`), and what the step passes — none of the
 * rest of ours (other vendors' keys, database URLs, cloud credentials), which its shell could read.
 */
function environmentOf(step: ClaudeCodeStep, run: RunContext): Record<string, string> {
  const anthropic = run.pipeline.providers?.anthropic;
  const apiKeyEnv =
    anthropic?.type === undefined || anthropic.type === 'anthropic' ? anthropic?.api_key_env : undefined;
  return sessionEnvironment(run.services.env, {
    ...(apiKeyEnv === undefined ? {} : { apiKeyEnv }),
    ...(step.pass_env === undefined ? {} : { passEnv: step.pass_env }),
    ...(step.env === undefined
      ? {}
      : { env: Object.fromEntries(Object.entries(step.env).map(([name, value]) => [name, String(value)])) }),
  });
}

function outsideRoot(step: ClaudeCodeStep, what: string): ElexirionError {
  return outsideRootError(`claude_code step "${step.name}": ${what}`);
}

/**
 * `cwd:` rendered and taken relative to the pipeline's directory (which is also the default); with
 * a root (`serve --root`), inside it — the agent reads and writes where it works.
 */
function resolveCwd(step: ClaudeCodeStep, pipelineDir: string, scope: TemplateScope, root: string | undefined): string {
  if (step.cwd === undefined) return pipelineDir;
  const cwd = resolve(pipelineDir, renderString(step.cwd, scope));
  // The root itself is a fine place to work; only a directory that leads out of it is not.
  if (root !== undefined && realLocation(cwd) !== realLocation(root) && !isInsideRoot(root, cwd))
    throw outsideRoot(step, `cwd ${cwd}`);
  let isDirectory = false;
  try {
    isDirectory = statSync(cwd).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) {
    throw new ElexirionError(`claude_code step "${step.name}": cwd ${cwd} is not a directory`, {
      exitCode: ExitCode.invalidInput,
      hint: "create it, or fix `cwd:` (a relative path is taken from the pipeline file's directory)",
    });
  }
  return cwd;
}

/** Attempts at reserving a session's cap when calls in flight keep taking what is left. */
const MAX_CAP_ATTEMPTS = 4;

/**
 * What the session may spend. Claude Code's spend cannot be bounded by the prompt, so the session
 * is given a cap: its step's `max_cost_usd`, and under a run budget no more than what is left of
 * it — neither spent nor held by calls in flight (another session, a batch's items) — which it
 * reserves for as long as it runs (the whole rest, without a step cap). The session is refused when
 * what is left cannot pay for even one model call. Afterwards the reservation is replaced by what
 * the session reported spending (also when it failed part-way). `cap` says whose limit a stop at
 * `maxBudgetUsd` is: the step's (its own max_cost_usd, below what is left of the run's budget) or
 * the run's.
 */
async function spendingLimit(run: RunContext, key: string, request: ClaudeCodeRequest, stepCap?: number) {
  const guard = run.budget;
  let reservation: BudgetReservation | undefined;
  let maxBudgetUsd: number | undefined = stepCap;
  /** What is left of the run's budget is no more than the step's cap: a stop there is the run's. */
  let runCapped = false;
  if (guard) {
    const call: ModelRequest = {
      provider: 'anthropic',
      model: request.model ?? 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: request.prompt }],
      ...(request.system === undefined ? {} : { system: request.system }),
    };
    const { maxCostUsd } = guard.limits;
    if (maxCostUsd === undefined) reservation = await guard.reserve(call, key);
    else {
      // The least a session costs: one model call on the prompt.
      const oneCall = run.services.price(call.provider, call.model, estimateUsage(call)) ?? 0;
      let left = Math.max(oneCall, maxCostUsd - guard.spent.costUsd);
      let cap = Math.min(stepCap ?? Number.POSITIVE_INFINITY, left);
      for (let attempt = 1; reservation === undefined; attempt++) {
        try {
          reservation = await guard.reserve(call, key, () => cap);
        } catch (error) {
          // Refused because the run has spent more, or holds more in flight, than this process
          // knew: ask again for what the refusal says is left, if that still pays for a call.
          const leftNow = leftOf(error);
          if (leftNow === undefined || leftNow < oneCall || leftNow >= cap || attempt >= MAX_CAP_ATTEMPTS)
            throw sessionRefusal(error);
          cap = leftNow;
          left = leftNow;
        }
      }
      maxBudgetUsd = cap;
      runCapped = stepCap === undefined || left <= stepCap;
    }
  }
  // Whose limit the cap is, for what a stop there means: the step's own max_cost_usd (the step
  // failed; `on_error: continue` may absorb it) unless what was left of the run's budget is no more.
  let cap: BudgetCap | undefined;
  if (stepCap !== undefined && !runCapped) cap = { of: 'step', maxCostUsd: stepCap };
  else if (maxBudgetUsd !== undefined) cap = { of: 'run' };
  return {
    maxBudgetUsd,
    cap,
    /** Cost null: not known (the run counts it unpriced; its tokens still count). */
    settle(usage: Usage | undefined, costUsd: number | null | undefined): void {
      if (!guard || !reservation) return;
      if (usage === undefined) guard.release(reservation);
      else guard.commit(reservation, usage, costUsd === undefined ? 0 : costUsd);
    },
  };
}

/**
 * What a cost refusal says is left of the budget, rounded down to a micro-dollar (and a nano-dollar
 * under it, so that adding it back to what is spent and held cannot round past the limit).
 */
function leftOf(error: unknown): number | undefined {
  if (!(error instanceof BudgetExceededError) || error.standing?.limitOf !== 'cost') return undefined;
  const { limit, spent, inFlight } = error.standing;
  return Math.floor((limit - spent - inFlight - 1e-9) * 1e6) / 1e6;
}

/** A refused session says why when calls in flight hold the budget: that is not obvious. */
function sessionRefusal(error: unknown): unknown {
  if (!(error instanceof BudgetExceededError) || !error.standing || error.standing.inFlight <= 0) return error;
  return new BudgetExceededError(
    `${error.message} (a claude_code session holds all that is left of the budget while it runs: ` +
      'run sessions one after another, not beside other calls)',
    error.standing,
  );
}
