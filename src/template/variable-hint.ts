// Why a variable is undefined whose path runs into text: `{{ steps.review.output.verdict }}`
// on a step that answered prose (no `schema:`) is undefined because the output is a string, not an
// object — the generic "not in this template's scope" sent users looking for a typo.
import type { TemplateScope } from './scope.js';

/** Why `variable` is undefined when a part of its path is text (or another scalar); else undefined. */
export function scalarPathHint(variable: string, scope: TemplateScope): string | undefined {
  const parts = variable.match(/[^.[\]'"]+/g);
  if (!parts || parts.length < 2) return undefined;
  let value: unknown = scope;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i] as string;
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
    if (value !== null && typeof value !== 'object') {
      const path = parts.slice(0, i + 1).join('.');
      const kind = typeof value === 'string' ? 'text' : `a ${typeof value}`;
      const stepOutput = /^steps\.[^.]+\.output$/.test(path);
      return stepOutput
        ? `${path} is ${kind}, not an object, so it has no "${parts[i + 1]}": only a step with a \`schema:\` answers an object with fields`
        : `${path} is ${kind}, not an object, so it has no "${parts[i + 1]}"`;
    }
  }
  return undefined;
}
