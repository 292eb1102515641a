import { closest, distance } from 'fastest-levenshtein';

/**
 * The candidate closest to `word`, if it is close enough to be a plausible typo: at most about a third
 * of the word's length in edits (minimum 1, maximum 3) — `promt` → `prompt`, but not `foo` → `top_p`.
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const lower = word.toLowerCase();
  // A difference in case only is always a typo worth pointing out.
  const sameIgnoringCase = candidates.find((c) => c.toLowerCase() === lower);
  if (sameIgnoringCase !== undefined) return sameIgnoringCase;
  const best = closest(lower, candidates as string[]);
  const allowed = Math.min(3, Math.max(1, Math.ceil(word.length / 3)));
  return distance(lower, best) <= allowed ? best : undefined;
}

/** `did you mean "x"?`, else a list of what is allowed (when short enough to read). */
export function suggestion(word: string, candidates: readonly string[], what = 'allowed'): string {
  const guess = didYouMean(word, candidates);
  if (guess !== undefined) return `did you mean "${guess}"?`;
  return `${what}: ${candidates.join(', ')}`;
}
