// Which value of a step holds a template that failed, found by its text. The step handlers render
// their fields (a prompt, a model call's messages, a batch's `items`…) without keeping track of which
// one they are at — that would cost every render something, and most never fail — while the
// TemplateError they throw carries the template's whole text. Found only once a render has failed.
//
// Two values of one step with the same text fail alike, since they are rendered in the same scope:
// whichever of them the handler rendered first, the first one found here is a true place of it.
import type { PathSegment } from '../config/path.js';

/**
 * The key path under `value` of the first string equal to `text`, or undefined. Keys for which
 * `skip` is true are not searched at the top level (below it, everything is).
 */
export function pathOfText(value: unknown, text: string, skip?: (key: string) => boolean): PathSegment[] | undefined {
  if (value === text) return [];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = pathOfText(value[i], text);
      if (found) return [i, ...found];
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, element] of Object.entries(value)) {
    if (skip?.(key)) continue;
    const found = pathOfText(element, text);
    if (found) return [key, ...found];
  }
  return undefined;
}
