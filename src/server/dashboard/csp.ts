// The dashboard's Content-Security-Policy: nothing runs or loads but the page's own script and style
// (allowed by their SHA-256, so no 'unsafe-inline') and requests to its own origin. Should a run's
// text ever reach the page as markup despite textContent, an injected script or handler does not run.
import { createHash } from 'node:crypto';
import { DASHBOARD_HTML } from './page.js';

function inlineHash(tag: 'script' | 'style'): string {
  const body = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(DASHBOARD_HTML)?.[1];
  if (body === undefined) throw new Error(`the dashboard page has no <${tag}>`);
  return `'sha256-${createHash('sha256').update(body).digest('base64')}'`;
}

export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${inlineHash('script')}`,
  `style-src ${inlineHash('style')}`,
  "connect-src 'self'",
  'img-src data:', // the empty favicon
  "base-uri 'none'",
  "form-action 'none'",
  // Never inside another site's frame: its Cancel and Resume buttons must not be clickable
  // through a page laid over them (clickjacking).
  "frame-ancestors 'none'",
].join('; ');
