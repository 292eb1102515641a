// "Did you mean …?" for names in templates: the closest candidate, if it is close enough to be
// a plausible typo (at most one edit per three characters, and at least one).
import { closest, distance } from 'fastest-levenshtein';

export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const list = [...new Set(candidates)].filter((candidate) => candidate !== name);
  if (list.length === 0) return undefined;
  const guess = closest(name, list);
  return distance(name, guess) <= Math.max(1, Math.floor(name.length / 3)) ? guess : undefined;
}

/** `did you mean "x"?`, or `fallback` when no candidate is close. */
export function didYouMean(name: string, candidates: Iterable<string>, fallback?: string): string | undefined {
  const guess = closestName(name, candidates);
  return guess === undefined ? fallback : `did you mean "${guess}"?`;
}
