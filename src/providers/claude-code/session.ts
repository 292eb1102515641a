// One agentic Claude Code session through the Claude Agent SDK: the SDK speaks stream-json with the
// executable, which we start for it in a process group of its own (./process-group.ts: stopping the
// session stops what its tools started too); we pass the step's options and a minimal environment
// (./environment.ts), cancel it with the step's signal, at the step's max_tokens or when the API
// keeps refusing its credentials (./api-retries.ts) — each kills the process group — and read the
// answer, usage and cost from its result message, where the session ends.
import type { Options, SDKResultMessage, SettingSource } from '@anthropic-ai/claude-agent-sdk';
import { ApiRetryWatch } from './api-retries.js';
import type { BudgetCap } from './budget-cap.js';
import { sessionEnvironment } from './environment.js';
import { ClaudeCodeError, ClaudeCodeTokenLimitError, type SpentSoFar } from './errors.js';
import { EXECUTABLE_ENV } from './executable.js';
import { type ClaudeAgentSdk, loadClaudeAgentSdk } from './load-sdk.js';
import { SessionMeter } from './meter.js';
import { type SessionProcess, spawnInOwnGroup } from './process-group.js';
import { type ClaudeCodeResult, interpretResult } from './result.js';
import { MAX_MESSAGE_LENGTH, sanitizeMessage, sanitizeTail } from './sanitize.js';

export type PermissionMode = 'default' | 'acceptEdits' | 'bypassPermissions' | 'plan';

export interface ClaudeCodeRequest {
  prompt: string;
  /** Replaces Claude Code's system prompt. */
  system?: string;
  model?: string;
  /** Absolute: the directory the session works in. */
  cwd: string;
  allowedTools?: string[];
  maxTurns?: number;
  permissionMode?: PermissionMode;
  /**
   * The settings files Claude Code loads (its --setting-sources). None when undefined: a repository's
   * .claude/settings.json would otherwise run its hooks and widen the session's permissions.
   */
  settingSources?: SettingSource[];
  /** Absolute path of the executable; undefined lets the SDK resolve its own. */
  executable?: string;
  /**
   * Claude Code stops the session itself past this spend: what is left of the run's budget, or the
   * step's own `max_cost_usd` (SessionOptions.budgetCap says which).
   */
  maxBudgetUsd?: number;
  /**
   * The whole environment of the process (see ./environment.ts): nothing else of ours is inherited.
   * Default: sessionEnvironment(process.env), the basics and Claude Code's own variables.
   */
  env?: Record<string, string>;
}

export interface SessionOptions {
  /** Each piece of assistant text as it arrives (for streaming to the run's events). */
  onText?: (text: string) => void;
  /**
   * Counts the model calls of the session as they arrive: what a session that ended without a
   * result spent (a crash carries it in its ClaudeCodeError; after an abort, read it here).
   */
  meter?: SessionMeter;
  /**
   * Stop the session (abort it, which ends the process) as soon as the output tokens of its model
   * calls, as the meter counts them (SessionMeter.outputTokens), go past this: it then rejects with
   * ClaudeCodeTokenLimitError, which carries what was spent.
   */
  maxOutputTokens?: number;
  /** The step the session runs for, named in its errors. */
  step?: string;
  /**
   * Whose limit `maxBudgetUsd` is: the step's own (Claude Code stopping there fails the step with
   * ClaudeCodeCostLimitError) or the run's remaining budget (ClaudeCodeBudgetError, the default).
   */
  budgetCap?: BudgetCap;
  /** The SDK to use; the installed one by default (tests may pass a stand-in). */
  sdk?: ClaudeAgentSdk;
}

export type { ClaudeCodeResult };

/**
 * Runs the session to its result. Rejects with `signal.reason` as soon as the signal fires (the SDK
 * then ends the process), ClaudeCodeTokenLimitError past `maxOutputTokens` (likewise),
 * ClaudeCodeAuthError when the API keeps refusing its credentials (likewise),
 * ClaudeCodeMaxTurnsError at `maxTurns`, ClaudeCodeError for any other failure.
 */
export async function runClaudeCodeSession(
  request: ClaudeCodeRequest,
  signal: AbortSignal,
  options: SessionOptions = {},
): Promise<ClaudeCodeResult> {
  const sdk = options.sdk ?? (await loadClaudeAgentSdk());
  if (signal.aborted) throw signal.reason;
  const meter = options.meter ?? new SessionMeter();
  const controller = new AbortController();
  // Stop reading at once: the SDK winds the process down (stdin closed, SIGTERM to its process group
  // after a moment, see ./process-group.ts), and the step — its timeout's record, its budget — need
  // not wait for that.
  let stopReading: () => void = () => {};
  const stopped = new Promise<'aborted'>((resolve) => {
    stopReading = () => resolve('aborted');
  });
  const onAbort = () => {
    controller.abort(signal.reason);
    stopReading();
  };
  signal.addEventListener('abort', onAbort, { once: true });

  let result: SDKResultMessage | undefined;
  let model: string | undefined;
  let texts = 0;
  let failure: unknown;
  /** Why Elexirion stopped the session itself (its max_tokens, credentials the API keeps refusing). */
  let stoppedBy: ClaudeCodeError | undefined;
  const retries = new ApiRetryWatch();
  const env = request.env ?? sessionEnvironment(process.env);
  let started: SessionProcess | undefined;
  const queryOptions = sdkOptions(request, controller, env);
  queryOptions.spawnClaudeCodeProcess = (spawnOptions) => {
    started = spawnInOwnGroup(spawnOptions);
    return started;
  };
  const session = sdk.query({ prompt: request.prompt, options: queryOptions });
  const messages = session[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await Promise.race([messages.next(), stopped]);
      if (next === 'aborted' || next.done) break;
      const message = next.value;
      if (message.type === 'system' && message.subtype === 'init') model = message.model;
      else if (message.type === 'system' && message.subtype === 'api_retry') {
        stoppedBy = retries.see(message, meter.spent());
        if (stoppedBy) {
          controller.abort(stoppedBy);
          break;
        }
      } else if (message.type === 'assistant') {
        meter.add(message); // subagents' calls are paid for too
        const { maxOutputTokens } = options;
        if (maxOutputTokens !== undefined && meter.outputTokens() > maxOutputTokens) {
          // Stopped here, whatever the process still has to say (a result already on its way
          // included): the SDK ends it, and the bill is what the meter saw.
          stoppedBy = new ClaudeCodeTokenLimitError(options.step, maxOutputTokens, meter.outputTokens(), meter.spent());
          controller.abort(stoppedBy);
          break;
        }
        if (message.parent_tool_use_id === null && options.onText) {
          for (const block of message.message.content) {
            if (block.type !== 'text' || block.text === '') continue;
            // Each text is a whole paragraph of its turn: kept apart from the previous one, as
            // the chunks are printed one after another.
            options.onText(texts++ === 0 ? block.text : `\n\n${block.text}`);
          }
        }
      } else if (message.type === 'result') {
        // The session's last word: read no further. Claude Code exits after it, or sometimes hangs
        // with stdout open (anthropics/claude-code#25629); waiting for that made a finished, paid
        // session time out. Closing the session (below) ends the process if it lingers.
        result = message;
        break;
      }
    }
  } catch (error) {
    // Reading stops at a result, so this is a session that ended without one: it could not
    // start, or the process died (the SDK throws for its non-zero exit).
    failure = error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    session.close();
  }
  if (signal.aborted) throw signal.reason;
  if (stoppedBy) throw stoppedBy;
  // What it reports is redacted with the values of the session's environment too (the key it was
  // given under another name than the one it came from).
  const redact = { ...process.env, ...env };
  if (result) {
    const { budgetCap } = options;
    return interpretResult(result, {
      ...(model ? { model } : {}),
      ...maxTurnsOf(request),
      env: redact,
      ...(budgetCap === undefined ? {} : { budgetCap: namingStep(budgetCap, options.step) }),
    });
  }
  throw startFailure(failure, request, meter.spent(), redact, started?.stderrTail() ?? '');
}

function sdkOptions(request: ClaudeCodeRequest, controller: AbortController, env: Record<string, string>): Options {
  // `env` replaces the process's environment entirely (the SDK adds only its own markers).
  // No settings files unless the step asks for them: the SDK's default is all of them (user, project,
  // local), and a project's .claude/settings.json is whoever wrote the repository's — its hooks run
  // as we do, its permissions go beyond `allowed_tools`, its env reaches the session.
  const options: Options = {
    abortController: controller,
    cwd: request.cwd,
    env,
    settingSources: request.settingSources ?? [],
  };
  if (request.system !== undefined) options.systemPrompt = request.system;
  if (request.model !== undefined) options.model = request.model;
  if (request.allowedTools !== undefined) options.allowedTools = request.allowedTools;
  if (request.maxTurns !== undefined) options.maxTurns = request.maxTurns;
  if (request.permissionMode !== undefined) options.permissionMode = request.permissionMode;
  // The SDK refuses bypassPermissions without this second switch; the step's author chose it in YAML.
  if (request.permissionMode === 'bypassPermissions') options.allowDangerouslySkipPermissions = true;
  if (request.executable !== undefined) options.pathToClaudeCodeExecutable = request.executable;
  if (request.maxBudgetUsd !== undefined) options.maxBudgetUsd = request.maxBudgetUsd;
  return options;
}

/** A cap of the step's own names its step in the error of a stop there. */
function namingStep(cap: BudgetCap, step: string | undefined): BudgetCap {
  return cap.of === 'step' && cap.step === undefined && step !== undefined ? { ...cap, step } : cap;
}

function maxTurnsOf(request: ClaudeCodeRequest): { maxTurns?: number } {
  return request.maxTurns === undefined ? {} : { maxTurns: request.maxTurns };
}

const STDERR_LABEL = '. stderr: ';
/** What an error message keeps at least of the end of a crash's stderr. */
const MIN_STDERR_LENGTH = 200;

/**
 * The session ended without a result: it could not start, or the process died — having spent, on
 * the model calls it made before, what `spent` says.
 */
function startFailure(
  error: unknown,
  request: ClaudeCodeRequest,
  spent: SpentSoFar | undefined,
  env: Readonly<Record<string, string | undefined>>,
  stderr: string,
): ClaudeCodeError {
  const paid = spent === undefined ? {} : { spent };
  if (error === undefined) return new ClaudeCodeError('the Claude Code session ended without a result', paid);
  const message = error instanceof Error ? error.message : String(error);
  let text = sanitizeMessage(message, env, MAX_MESSAGE_LENGTH - MIN_STDERR_LENGTH);
  // The SDK tells what the process wrote on stderr only when it started the process itself: the
  // end of it (what a crash printed last, its cause) is added here, in what the message leaves.
  const tail = stderr.trim();
  if (tail !== '' && !message.includes('stderr:')) {
    const room = MAX_MESSAGE_LENGTH - text.length - STDERR_LABEL.length;
    text = `${text}${STDERR_LABEL}${sanitizeTail(tail, env, room)}`;
  }
  if (request.executable === undefined && /not found|ENOENT/i.test(text)) {
    return new ClaudeCodeError(`Claude Code could not be started: ${text}`, {
      hint: `set \`executable:\` on the step or ${EXECUTABLE_ENV} to the path of a \`claude\` executable`,
      ...paid,
    });
  }
  return new ClaudeCodeError(`the Claude Code session failed: ${text}`, paid);
}
