// Debian's Chromium for the dashboard's browser tests (CI installs it: apt-get install chromium). A
// file whose test needs it skips, saying so, where it is absent.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether Chromium is there; warns, naming `what` is skipped, when it is not. */
export function chromiumFor(what: string): boolean {
  const present = existsSync(CHROMIUM);
  if (!present) console.warn(`skipping ${what}: ${CHROMIUM} is absent (apt-get install chromium)`);
  return present;
}

/**
 * A headless Chromium, as root may start it here (no sandbox, no GPU), that reaches for no network
 * of its own: this machine refuses it, many connections at a time.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
