// The Claude Agent SDK is an optional peer dependency: most users never run a claude_code step and
// should not pay for it (it brings a ~380 MB native binary). It is loaded on first use with a
// dynamic import, and its absence is a clear, actionable error rather than a module-not-found trace.
import { ElexirionError, ExitCode } from '../../errors.js';

export const CLAUDE_AGENT_SDK = '@anthropic-ai/claude-agent-sdk';

/** The part of the SDK Elexirion uses. */
export type ClaudeAgentSdk = Pick<typeof import('@anthropic-ai/claude-agent-sdk'), 'query'>;

export class ClaudeAgentSdkMissingError extends ElexirionError {
  constructor(cause?: unknown) {
    super(`claude_code steps need ${CLAUDE_AGENT_SDK}: npm install ${CLAUDE_AGENT_SDK}`, {
      exitCode: ExitCode.invalidInput,
      hint: 'or run the pipeline with --mock to answer claude_code steps without Claude Code',
      cause,
    });
  }
}

export type SdkImporter = () => Promise<unknown>;

const importSdk: SdkImporter = () => import(CLAUDE_AGENT_SDK);

let loaded: Promise<ClaudeAgentSdk> | undefined;

/**
 * The SDK module, imported once per process. Throws ClaudeAgentSdkMissingError (exit code 2) when
 * the package is not installed; any other failure to load it is rethrown as it is.
 */
export function loadClaudeAgentSdk(importer: SdkImporter = importSdk): Promise<ClaudeAgentSdk> {
  if (importer !== importSdk) return load(importer);
  loaded ??= load(importer).catch((error: unknown) => {
    loaded = undefined; // installed later in a long-lived process (the server): try again next time
    throw error;
  });
  return loaded;
}

async function load(importer: SdkImporter): Promise<ClaudeAgentSdk> {
  let sdk: unknown;
  try {
    sdk = await importer();
  } catch (error) {
    if (isMissingSdk(error)) throw new ClaudeAgentSdkMissingError(error);
    throw error;
  }
  if (typeof (sdk as Partial<ClaudeAgentSdk>)?.query !== 'function') {
    throw new ElexirionError(`${CLAUDE_AGENT_SDK} was found but has no query() function`, {
      exitCode: ExitCode.invalidInput,
      hint: `install a 0.3.x version: npm install ${CLAUDE_AGENT_SDK}@^0.3`,
    });
  }
  return sdk as ClaudeAgentSdk;
}

/** Only "this package is not installed" — not a broken install or a missing dependency of it. */
function isMissingSdk(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return typeof message === 'string' && message.includes(`'${CLAUDE_AGENT_SDK}'`);
}
