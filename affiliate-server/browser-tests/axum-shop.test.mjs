// The example axum shop (examples/axum-shop, built on affiliate_sdk::axum) in headless
// Chromium, with the real affiliate-server as the tracker on another site:
// link → tracker → the shop's landing → a first-party HttpOnly cookie from the shop's
// own response → the clean URL → the signed order on the confirmation page → attributed.
// Then the same through the /go/ click routes mounted in the shop itself.
//
//   AFFILIATE_SERVER_BIN=target/debug/affiliate-server AXUM_SHOP_BIN=target/debug/axum-shop node --test
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launchChromium } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.AFFILIATE_SERVER_BIN || join(here, '../../target/debug/affiliate-server');
const SHOP_BIN = process.env.AXUM_SHOP_BIN || join(here, '../../target/debug/axum-shop');
const API_KEY = 'axum-shop-test-key-0123456789';
const KEY = Buffer.alloc(32, 7).toString('base64url');

let dir, server, tracker, shop, shopOrigin, browser;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function startShop(port, trackerUrl) {
  return new Promise((resolve, reject) => {
    const child = spawn(SHOP_BIN, [], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, AXUM_SHOP_LISTEN: `127.0.0.1:${port}`, AXUM_SHOP_ORIGIN: `http://localhost:${port}`,
        AXUM_SHOP_TRACKER: trackerUrl, AXUM_SHOP_KEY: KEY },
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error('axum-shop did not start: ' + out)), 30000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (/listening on http:\/\//.test(out)) { clearTimeout(timer); resolve(child); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error('axum-shop exited with ' + code)); });
  });
}

async function api(path) {
  const r = await fetch(tracker + path, { headers: { Authorization: 'Bearer ' + API_KEY } });
  return { status: r.status, json: await r.json() };
}

before(async () => {
  const port = await freePort();
  // The shop is http://localhost:port, another site than the tracker at 127.0.0.1.
  shopOrigin = `http://localhost:${port}`;
  dir = mkdtempSync(join(tmpdir(), 'affiliate-axum-shop-'));
  const file = join(dir, 'affiliate.toml');
  writeFileSync(file, `
[server]
listen = "127.0.0.1:0"
public_url = "http://127.0.0.1"
data_dir = "data"
api_keys = ["${API_KEY}"]

[keys]
current = "k1"
k1 = "${KEY}"

[[campaign]]
code = "spring"
destination = "${shopOrigin}/sale"
currency = "USD"
sale_percent = "10"

[[partner]]
code = "abc123"
`);
  ({ child: server, url: tracker } = await startServer(BIN, file));
  shop = await startShop(port, tracker);
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (shop) shop.kill();
  if (server) server.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Follows `link` in a fresh browser, buys, and returns the order id, the shop's
 * cookie and the URLs the visitor went through. */
async function visitAndBuy(link) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Every response, redirects included, with its Set-Cookie (which `headers()` leaves
  // out; `headerValue` has it).
  const pending = [];
  page.on('response', (r) => pending.push(r.headerValue('set-cookie').then((c) => [r.status(), r.url(), c || ''])));
  await page.goto(link);
  const landed = page.url();
  const referred = await page.textContent('#referred');
  const cookies = await context.cookies(shopOrigin);
  await page.click('#buy');
  await page.waitForSelector('#order');
  const order = await page.textContent('#order');
  // The confirmation page's pixel reached the tracker.
  await page.waitForFunction(() => { const img = document.getElementById('pixel'); return img && img.complete; });
  const hops = await Promise.all(pending);
  await context.close();
  assert.deepEqual(errors, []);
  return { landed, referred, cookies, order, hops };
}

async function attributed(order) {
  for (let i = 0; i < 50; i += 1) {
    const r = await api(`/v1/conversions/${order}`);
    if (r.status === 200) return r.json;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  assert.fail(`order ${order} never reached the tracker`);
}

function checkLanding({ landed, referred, cookies, hops }) {
  // The clean URL, the token gone from it.
  assert.equal(landed, `${shopOrigin}/sale`);
  assert.equal(referred, 'Referred by abc123');
  // The cookie is the shop's own, first-party, HttpOnly, set by its landing response.
  const cookie = cookies.find((c) => c.name === 'aff_token');
  assert.ok(cookie, JSON.stringify(cookies));
  assert.equal(cookie.domain, 'localhost');
  assert.equal(cookie.httpOnly, true);
  const landing = hops.find(([status, url]) => status === 302 && url.startsWith(`${shopOrigin}/sale?aff_token=`));
  assert.ok(landing, JSON.stringify(hops));
  assert.match(landing[2], /^aff_token=v1\.[^;]+; HttpOnly; SameSite=Lax; Path=\/; Max-Age=\d+/);
}

test('a partner link at the tracker lands on the shop, which sets its own cookie; the signed order is attributed', async () => {
  const link = `${tracker}/go/spring/abc123?sig=` + await signature();
  const visit = await visitAndBuy(link);
  checkLanding(visit);
  // The first hop was the tracker's redirect to the shop with the token.
  assert.equal(visit.hops[0][0], 302);
  assert.ok(visit.hops[0][1].startsWith(`${tracker}/go/spring/abc123`));
  const conv = await attributed(visit.order);
  assert.equal(conv.partner, 'abc123');
  assert.equal(conv.channel, 'signed_browser');
  assert.equal(conv.amount, '24.00');
  assert.deepEqual(conv.commissions, [{ partner: 'abc123', level: 0, amount: '2.40' }]);
});

test('the same through the /go/ click routes mounted in the shop itself', async () => {
  const link = `${shopOrigin}/go/spring/abc123?sig=` + await signature();
  const visit = await visitAndBuy(link);
  checkLanding(visit);
  assert.ok(visit.hops[0][1].startsWith(`${shopOrigin}/go/spring/abc123`));
  // The shop's click route set the cookie too, before sending the visitor on.
  assert.match(visit.hops[0][2], /^aff_token=v1\./);
  const conv = await attributed(visit.order);
  assert.equal(conv.partner, 'abc123');
  assert.equal(conv.channel, 'signed_browser');
});

/** The link signature of spring/abc123, as the tracker's link builder makes it (the
 * signature covers the codes, not the host: the shop's own links use it too). */
async function signature() {
  const r = await fetch(tracker + '/v1/links', {
    method: 'POST', headers: { Authorization: 'Bearer ' + API_KEY },
    body: JSON.stringify({ campaign: 'spring', partner: 'abc123' }),
  });
  assert.ok(r.ok, `POST /v1/links: ${r.status}`);
  return new URL((await r.json()).url).searchParams.get('sig');
}
