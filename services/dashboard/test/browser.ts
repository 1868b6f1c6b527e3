// Headless Chromium for the browser test and the bench: Debian's `chromium` package,
// driven by playwright-core (whose own browser download does not work here).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function chromiumPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.CHROMIUM_PATH || '/usr/bin/chromium';
}

/** Launches Chromium, or fails saying how to install it (never skips). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}. The dashboard's browser test needs it: ` +
        'install Debian\'s package with `apt-get install -y chromium` (or set CHROMIUM_PATH to a Chromium binary).',
    );
  }
  // playwright-core gives every launch a fresh temporary profile (user data dir).
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 60_000 });
}
