// "Did you mean …?" for names in templates: the closest candidate, if it is close enough to be
// a plausible typo: one edit for names of up to three characters, else two edits or one per
// three characters, whichever is more (a swapped pair of letters is two edits).
import { closest, distance } from 'fastest-levenshtein';

export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const list = [...new Set(candidates)].filter((candidate) => candidate !== name);
  if (list.length === 0) return undefined;
  const guess = closest(name, list);
  const allowed = name.length <= 3 ? 1 : Math.max(2, Math.floor(name.length / 3));
  return distance(name, guess) <= allowed ? guess : undefined;
}

/** `did you mean "x"?`, or `fallback` when no candidate is close. */
export function didYouMean(name: string, candidates: Iterable<string>, fallback?: string): string | undefined {
  const guess = closestName(name, candidates);
  return guess === undefined ? fallback : `did you mean "${guess}"?`;
}
