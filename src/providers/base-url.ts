// One spelling per endpoint: `http://GPU-BOX:8000/v1/`, `http://gpu-box:08000/v1` and
// `http://gpu-box:8000/v1` are one server. What `URL` makes of a URL — scheme and host lower-cased,
// a default or zero-padded port normalized — without trailing slashes. Used wherever two base URLs
// must be told apart or matched: gates (one per endpoint), serve's allow-list.
export function normalizeUrl(url: string): string {
  try {
    return new URL(url).href.replace(/\/+$/, '');
  } catch {
    return url.replace(/\/+$/, '');
  }
}
