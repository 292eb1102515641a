// A duration without a unit is a number of milliseconds (`1500`). Written small on a timeout, a
// cache's ttl or a breaker's recovery, that is almost surely seconds with the unit forgotten:
// `timeout: 5` timed every attempt out after 5 ms — retried, then failed — with nothing at load
// time to say why. Below one second such a number is refused, with the unit to write; a unit
// (`5ms`) still says milliseconds on purpose. Latencies and retry delays keep taking small numbers.
// A cache's ttl is refused above a second too when it reads as seconds and not as milliseconds:
// `ttl: 3600` (an hour in seconds) was 3.6 s. Only whole minutes as seconds that are not even whole
// half seconds as milliseconds (1800, 3600, 86400): milliseconds are written round (1500, 5000,
// 60000, 3600000), and those still load. Refused, not warned of: a pipeline either loads or it does
// not, and a warning would scroll by in `run` and go unseen through `serve`. Timeouts keep taking
// such numbers: a 1800 ms timeout is plausible.
import type { DocPath } from './path.js';
import type { Problem } from './problem.js';
import type { Fallback, Pipeline, Step } from './schema.js';

const SECOND_MS = 1000;

/** What a few milliseconds would do, by key. */
const EFFECT: Readonly<Record<string, string>> = {
  timeout: 'which no call finishes in',
  recovery_timeout: 'after which an open circuit breaker would let calls through again almost at once',
  ttl: 'after which a cached answer is gone almost at once',
};

type WithDurations = {
  timeout?: string | number | undefined;
  cache?: boolean | { ttl?: string | number | undefined } | undefined;
};

export function unitlessDurationProblems(pipeline: Pipeline, at: DocPath): Problem[] {
  const problems: Problem[] = [];
  const check = (key: string, value: unknown, path: DocPath): void => {
    if (typeof value !== 'number') return;
    if (value >= SECOND_MS) {
      if (key === 'ttl' && secondsLike(value)) problems.push(secondsLikeTtl(value, path));
      return;
    }
    const zero = value === 0;
    problems.push({
      path,
      message: `\`${key}: ${value}\` has no unit, so it is ${value} ms, ${EFFECT[key]}`,
      hint: zero
        ? key === 'ttl'
          ? 'write a duration with its unit, e.g. `1h`; to not cache at all, write `cache: false`'
          : 'write a duration with its unit, e.g. `30s` (there is no "no timeout": the longest is `596h`)'
        : `write the unit: \`${value}s\` for seconds (or \`${value}ms\` if milliseconds are meant)`,
    });
  };
  const checkCall = (call: WithDurations, path: DocPath): void => {
    check('timeout', call.timeout, [...path, 'timeout']);
    if (typeof call.cache === 'object') check('ttl', call.cache.ttl, [...path, 'cache', 'ttl']);
  };
  const checkFallbacks = (fallback: Fallback | Fallback[] | undefined, path: DocPath): void => {
    if (fallback === undefined) return;
    if (!Array.isArray(fallback)) checkCall(fallback, [...path, 'fallback']);
    else
      fallback.forEach((f, i) => {
        checkCall(f, [...path, 'fallback', i]);
      });
  };
  const visit = (step: Step, path: DocPath): void => {
    checkCall(step, path);
    if ('fallback' in step) checkFallbacks(step.fallback, path);
    if (step.type === 'batch' || step.type === 'claude_batch') {
      const template = [...path, 'step_template'];
      checkCall(step.step_template, template);
      checkFallbacks(step.step_template.fallback, template);
    }
    if (step.type === 'parallel')
      step.steps.forEach((sub, i) => {
        visit(sub, [...path, 'steps', i]);
      });
    // An inline `pipeline:` is checked as a pipeline of its own (semanticProblems).
  };

  if (pipeline.defaults) checkCall(pipeline.defaults, [...at, 'defaults']);
  for (const [name, provider] of Object.entries(pipeline.providers ?? {})) {
    const path = [...at, 'providers', name];
    check('timeout', provider.timeout, [...path, 'timeout']);
    check('recovery_timeout', provider.circuit_breaker?.recovery_timeout, [
      ...path,
      'circuit_breaker',
      'recovery_timeout',
    ]);
  }
  pipeline.steps.forEach((step, i) => {
    visit(step, [...at, 'steps', i]);
  });
  return problems;
}

function secondsLikeTtl(value: number, path: DocPath): Problem {
  return {
    path,
    message: `\`ttl: ${value}\` has no unit, so it is ${value} ms (${value / SECOND_MS} s), not ${value} seconds (${minutes(value)})`,
    hint: `write the unit: \`${value}s\` for seconds (or \`${value}ms\` if milliseconds are meant)`,
  };
}

/** Whole minutes as seconds, yet no whole half second as milliseconds: 1800, 3600, 86400. */
function secondsLike(value: number): boolean {
  return Number.isInteger(value) && value % 60 === 0 && value % (SECOND_MS / 2) !== 0;
}

/** `value` seconds (whole minutes) as a duration: 3600 → `1h`, 5400 → `90m`. */
function minutes(value: number): string {
  return value % 3600 === 0 ? `${value / 3600}h` : `${value / 60}m`;
}
