// One `--allow-base-url` entry of `elexirion serve`: a base URL inline pipelines may use, and the
// key variable (if any) the operator ties to it. Kept apart so that the CLI checks its flags
// without loading the service.

/**
 * `URL` or `URL=VAR` (`--allow-base-url`): what follows the last `=` is a key variable when it is
 * a variable's name and what precedes it a URL; anything else is a URL as a whole.
 */
export function parseAllowedBaseUrl(entry: string): { url: string; keyEnv?: string } {
  const at = entry.lastIndexOf('=');
  const url = entry.slice(0, at);
  const keyEnv = entry.slice(at + 1);
  if (at > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(keyEnv) && URL.canParse(url)) return { url, keyEnv };
  return { url: entry };
}
