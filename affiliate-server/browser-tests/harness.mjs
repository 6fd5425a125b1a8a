// Shared by the dashboard tests here and the snippet tests (snippet/test): start the
// real affiliate-server, launch Debian's Chromium through playwright-core.
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';

// Start a config'd server on its port-0 listener; resolves with { child, url } once it
// prints "listening on http://…".
export function startServer(bin, configFile) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['serve', '--config', configFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error('affiliate-server did not start: ' + out)), 30000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1] }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error('affiliate-server exited with ' + code)); });
  });
}

// Debian's /usr/bin/chromium (or $CHROMIUM), headless, no network of its own.
/** What a visitor's browser says it is: headless Chromium's own user agent
 * (`HeadlessChrome`) is a bot's, whose clicks the tracker lands without a token. */
export const BROWSER_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-agent=${BROWSER_UA}`],
  });
}
