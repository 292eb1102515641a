// A run id as typed on a command line. Ids are ULIDs, written in upper case; Crockford's base32,
// which they use, reads either case alike — so `runs show 01m8…` (a lowercased copy, a shell
// completion) finds the run rather than saying there is none.
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;

/** `value` upper-cased when it is a ULID in any case; anything else as given (the journal says). */
export function runIdArgument(value: string): string {
  return ULID.test(value) ? value.toUpperCase() : value;
}
