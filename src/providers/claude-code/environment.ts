// The environment a Claude Code session starts with. The agent runs tools — a shell — with it, so
// it is not Elexirion's environment (other vendors' keys, database URLs, cloud credentials) but
// the least Claude Code needs to run, plus what the step passes on purpose:
//   - the basics of a process: PATH, HOME, the user, shell, terminal, locale (LANG, LC_*), time
//     zone, temporary and XDG directories (and their Windows counterparts);
//   - proxies and certificate authorities (HTTPS_PROXY, NO_PROXY, NODE_EXTRA_CA_CERTS …);
//   - Claude Code's own variables: ANTHROPIC_*, CLAUDE_*, and its few switches without a prefix;
//     the cloud's credentials (AWS_*, Google's) only when the session is routed through Bedrock or
//     Vertex (CLAUDE_CODE_USE_BEDROCK, CLAUDE_CODE_USE_VERTEX);
//   - the Anthropic key: where the pipeline's `providers.anthropic.api_key_env` names the variable
//     holding it (and it is set), its value as ANTHROPIC_API_KEY;
//   - the step's `pass_env:` (variables of Elexirion's environment, by name) and `env:` (values).
import type { Env } from '../settings.js';

/** The variable Claude Code reads its API key from. */
export const CLAUDE_CODE_KEY_VARIABLE = 'ANTHROPIC_API_KEY';

const BASICS = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'TERM',
  'COLORTERM',
  'NO_COLOR',
  'FORCE_COLOR',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'TMP',
  'TEMP',
  'XDG_CONFIG_HOME',
  'XDG_CACHE_HOME',
  'XDG_DATA_HOME',
  'XDG_STATE_HOME',
  'XDG_RUNTIME_DIR',
  // Windows
  'SYSTEMROOT',
  'WINDIR',
  'COMSPEC',
  'PATHEXT',
  'USERPROFILE',
  'HOMEDRIVE',
  'HOMEPATH',
  'APPDATA',
  'LOCALAPPDATA',
  'PROGRAMDATA',
  'PROGRAMFILES',
];

const NETWORK = [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'all_proxy',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'NODE_USE_SYSTEM_CA',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];

/** Claude Code's settings that have no ANTHROPIC_ or CLAUDE_ prefix. */
const CLAUDE_CODE_SWITCHES = [
  'API_TIMEOUT_MS',
  'BASH_DEFAULT_TIMEOUT_MS',
  'BASH_MAX_TIMEOUT_MS',
  'BASH_MAX_OUTPUT_LENGTH',
  'DISABLE_AUTOUPDATER',
  'DISABLE_ERROR_REPORTING',
  'DISABLE_NON_ESSENTIAL_MODEL_CALLS',
  'DISABLE_PROMPT_CACHING',
  'DISABLE_TELEMETRY',
  'MAX_MCP_OUTPUT_TOKENS',
  'MAX_THINKING_TOKENS',
  'MCP_TIMEOUT',
  'MCP_TOOL_TIMEOUT',
];

const ALWAYS: ReadonlySet<string> = new Set([...BASICS, ...NETWORK, ...CLAUDE_CODE_SWITCHES]);
const ALWAYS_PREFIXES = ['LC_', 'ANTHROPIC_', 'CLAUDE_'];

/** The credentials of the cloud a session is routed through, by the switch that routes it. */
const CLOUDS: readonly { switch: string; names: readonly string[]; prefixes: readonly string[] }[] = [
  { switch: 'CLAUDE_CODE_USE_BEDROCK', names: [], prefixes: ['AWS_'] },
  {
    switch: 'CLAUDE_CODE_USE_VERTEX',
    names: [
      'GOOGLE_APPLICATION_CREDENTIALS',
      'GOOGLE_CLOUD_PROJECT',
      'GCLOUD_PROJECT',
      'CLOUDSDK_CONFIG',
      'CLOUD_ML_REGION',
    ],
    prefixes: ['VERTEX_REGION_'],
  },
];

export interface SessionEnvironmentOptions {
  /** `providers.anthropic.api_key_env`: the variable holding the Anthropic key, given as ANTHROPIC_API_KEY. */
  apiKeyEnv?: string;
  /** The step's `pass_env:`: more variables of `parent`, by name (one that is not set is left out). */
  passEnv?: readonly string[];
  /** The step's `env:`: values, over everything else. */
  env?: Readonly<Record<string, string>>;
}

/** The environment of a session started from a process whose environment is `parent`. */
export function sessionEnvironment(parent: Env, options: SessionEnvironmentOptions = {}): Record<string, string> {
  const session: Record<string, string> = {};
  const take = (name: string, value: string | undefined) => {
    if (value !== undefined) session[name] = value;
  };
  for (const [name, value] of Object.entries(parent)) if (isAlwaysPassed(name)) take(name, value);

  const key = options.apiKeyEnv === undefined ? undefined : parent[options.apiKeyEnv];
  if (key !== undefined && key.trim() !== '') session[CLAUDE_CODE_KEY_VARIABLE] = key;

  for (const name of options.passEnv ?? []) take(name, parent[name]);

  const explicit = options.env ?? {};
  for (const cloud of CLOUDS) {
    if (!isOn(explicit[cloud.switch] ?? session[cloud.switch])) continue;
    for (const [name, value] of Object.entries(parent)) {
      const key = canonical(name);
      if (name in session) continue;
      if (cloud.names.includes(key) || cloud.prefixes.some((p) => key.startsWith(p))) take(name, value);
    }
  }
  Object.assign(session, explicit);
  return session;
}

function isAlwaysPassed(name: string): boolean {
  const key = canonical(name);
  return ALWAYS.has(name) || ALWAYS.has(key) || ALWAYS_PREFIXES.some((p) => key.startsWith(p));
}

/** Windows spells its variables in any case (`Path`, `SystemRoot`); elsewhere the case is the name's. */
function canonical(name: string): string {
  return process.platform === 'win32' ? name.toUpperCase() : name;
}

/** A switch Claude Code reads as on: set, and not 0/false/no/off. */
function isOn(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '' && !/^(0|false|no|off)$/i.test(value.trim());
}
