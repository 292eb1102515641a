// Why a replayed call missed its cassette, in words: the key alone (a hash) tells a user nothing.
// Its request is compared with the recorded calls of the same step, field by field, as the key
// addresses them (call-key.ts): what differs is what changed since the recording — or nothing, when
// only the endpoint did (a base_url, or a *_BASE_URL variable set otherwise than when recording).
import { canonicalJson } from '../config/canonical.js';
import type { ModelRequest } from '../providers/provider.js';
import { addressedParts } from './call-key.js';

/** A part's name as a user knows it (the YAML's keys). */
const SAID: Readonly<Record<string, string>> = { parameters: 'max_tokens, temperature, top_p or stop' };

/** The parts of a request its key addresses (the endpoint aside: a cassette does not hold it). */
function parts(request: ModelRequest): Record<string, unknown> {
  const { endpoint: _endpoint, ...addressed } = addressedParts(request);
  const named: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(addressed)) named[SAID[name] ?? name] = value;
  return named;
}

/** What differs between `request` and the nearest of `recorded` (the step's calls), as a clause. */
export function missReason(request: ModelRequest, recorded: readonly ModelRequest[]): string {
  if (recorded.length === 0) return 'it holds no call of this step';
  const wanted = Object.entries(parts(request)).map(([name, value]) => [name, canonicalJson(value ?? null)] as const);
  let nearest: string[] | undefined;
  for (const other of recorded) {
    const theirs = parts(other);
    const differ = wanted.filter(([name, value]) => canonicalJson(theirs[name] ?? null) !== value).map(([n]) => n);
    if (!nearest || differ.length < nearest.length) nearest = differ;
  }
  if (!nearest || nearest.length === 0) {
    return 'a recorded call of this step has the same request but another endpoint (a base_url, or a *_BASE_URL variable, differs from the recording)';
  }
  const what = nearest.includes('messages')
    ? [...nearest.filter((n) => n !== 'messages'), 'messages (the prompt)']
    : nearest;
  return `the nearest recorded call of this step differs in its ${what.join(', ')}`;
}
