// The snippet in headless Chromium (Debian's /usr/bin/chromium, playwright-core): the
// real affiliate-server on 127.0.0.1, the shop on localhost (another site), a hosted
// checkout on 127.0.0.2 (a third site), the whole flow from a signed link to /v1/stats.
//
//   AFFILIATE_SERVER_BIN=target/debug/affiliate-server node --test   (in snippet/)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants } from 'node:zlib';
import { buildSync } from 'esbuild';
import { startServer, launchChromium } from '../../affiliate-server/browser-tests/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const BIN = process.env.AFFILIATE_SERVER_BIN || join(root, '../target/debug/affiliate-server');
const API_KEY = 'snippet-test-key-0123456789';
const KEY = Buffer.alloc(32, 5).toString('base64url');
const BUDGET = 1180;

// The shop's backend, written here with node:crypto from the documented formats (a
// third implementation beside Rust's and the vector generator's).
const lp = (s) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
const hmac16 = (...parts) => {
  const h = createHmac('sha256', Buffer.from(KEY, 'base64url'));
  for (const p of parts) h.update(p);
  return h.digest().subarray(0, 16).toString('base64url');
};
/** The order signature (osig) the confirmation page passes to the snippet. */
function osig(orderId, amount = '49.90', currency = 'USD', kind = 'sale') {
  const fields = [lp('k1'), lp(orderId), lp(amount), lp(currency), lp(kind)];
  return 'k1.' + hmac16(Buffer.from('affiliate-sdk:order:v1\0'), ...fields);
}
/** A session token for haircare/partner issued at `iat` (Unix seconds). */
function mintToken(partner, iat) {
  const signed = ['v1', 'k1', iat + 30 * 86400, iat, randomBytes(16).toString('base64url'), 'haircare', partner, '', ''].join('.');
  return signed + '.' + hmac16(Buffer.from(signed), Buffer.from('\0affiliate-sdk:token:v1'));
}

let dir, configFile, tracker, trackerUrl, shop, shopUrl, checkout, checkoutUrl, browser;

// The shop: any page loads the snippet; /thanks reports an order before the snippet
// has loaded (the queue), signed by the shop. Query options: consent=require,
// attr=first, order=<id>, unsigned=1, decorate=<hosts> (the page also links and has a
// GET and a POST form to the checkout, and a link to an unlisted host).
function shopPage(url) {
  const q = new URL(url, 'http://x').searchParams;
  const attrs = [`data-endpoint="${trackerUrl}"`];
  if (q.get('consent') === 'require') attrs.push('data-require-consent');
  if (q.get('attr') === 'first') attrs.push('data-attribution="first"');
  let links = '';
  if (q.get('decorate')) {
    attrs.push(`data-decorate="${q.get('decorate')}"`);
    // The checkout's pages list the shop in their own data-decorate.
    links = `<a id="pay" href="${checkoutUrl}/pay?cart=7&amp;note=a%20b&amp;decorate=localhost">checkout</a>
<a id="elsewhere" href="http://127.0.0.3:9/pay?cart=7">elsewhere</a>
<form id="get" method="get" action="${checkoutUrl}/pay?dropped=1"><input name="cart" value="8"><input type="hidden" name="decorate" value="localhost"><button>get</button></form>
<form id="post" method="post" action="${checkoutUrl}/pay?cart=9&amp;decorate=localhost"><input name="qty" value="1"><button>post</button></form>`;
  }
  const order = q.get('order');
  // The confirmation page reports the order its backend signed (unsigned=1: it does not).
  const signature = q.get('unsigned') ? '' : `, signature: ${JSON.stringify(osig(order || ''))}`;
  const conversion = order
    ? `affiliate('conversion', {orderId: ${JSON.stringify(order)}, amount: '49.90', currency: 'USD', kind: 'sale'${signature}});`
    : '';
  return `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>
<h1>shop</h1>
${links}
<script>window.affiliate=window.affiliate||function(){(affiliate.q=affiliate.q||[]).push(arguments)};${conversion}</script>
<script async src="${trackerUrl}/snippet.js" ${attrs.join(' ')}></script>
</body></html>`;
}

function startShop(host) {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(shopPage(req.url));
    });
    server.listen(0, host, () => resolve(server));
  });
}

function config(shopOrigin) {
  return `
[server]
listen = "127.0.0.1:0"
public_url = "http://127.0.0.1"
data_dir = "data"
api_keys = ["${API_KEY}"]
allowed_origins = ["${shopOrigin}", "${checkoutUrl}"]

[keys]
current = "k1"
k1 = "${KEY}"

[[campaign]]
code = "haircare"
destination = "${shopOrigin}/landing"
currency = "USD"
sale_percent = "10"

[[campaign]]
code = "eu"
destination = "${shopOrigin}/landing?consent=require"
currency = "USD"
sale_percent = "10"
cookie_consent = "required"

[[partner]]
code = "abc123"

[[partner]]
code = "solo"
`;
}

function link(partner, extra = [], campaign = 'haircare') {
  const url = new URL(execFileSync(BIN, ['link', '--config', configFile, '--campaign', campaign,
    '--partner', partner, ...extra]).toString().trim());
  return trackerUrl + url.pathname + url.search;
}

async function conversion(orderId) {
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${trackerUrl}/v1/conversions/${orderId}`, { headers: { Authorization: 'Bearer ' + API_KEY } });
    if (r.status === 200) return r.json();
    await new Promise((ok) => setTimeout(ok, 100));
  }
  return null;
}

async function visitor() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const shopCookie = async () => (await context.cookies(shopUrl)).find((c) => c.name === 'aff_token');
  return { context, page, errors, shopCookie };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'affiliate-snippet-'));
  shop = await startShop();
  // The hosted checkout: another site again (127.0.0.2), the same pages.
  checkout = await startShop('127.0.0.2');
  checkoutUrl = `http://127.0.0.2:${checkout.address().port}`;
  // The shop is "localhost", the tracker "127.0.0.1": two sites, as a shop and its
  // tracker on another domain would be (cookies ignore ports).
  shopUrl = `http://localhost:${shop.address().port}`;
  configFile = join(dir, 'affiliate.toml');
  writeFileSync(configFile, config(shopUrl));
  ({ child: tracker, url: trackerUrl } = await startServer(BIN, configFile));
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (tracker) tracker.kill();
  if (shop) shop.close();
  if (checkout) checkout.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the committed build is the source built, and within the size budget', () => {
  const built = buildSync({
    entryPoints: [join(root, 'src/snippet.js')], minify: true, target: 'es2017',
    legalComments: 'none', write: false,
  }).outputFiles[0].text;
  const committed = readFileSync(join(root, 'dist/snippet.js'), 'utf8');
  assert.equal(committed, built, 'dist/snippet.js is stale: run `npm run build` in snippet/');
  const gz = gzipSync(committed, { level: constants.Z_BEST_COMPRESSION }).length;
  console.log(`snippet: ${committed.length} bytes, ${gz} bytes gzip -9 (budget ${BUDGET})`);
  assert.ok(gz <= BUDGET, `${gz} bytes gzipped, over the ${BUDGET} byte budget`);
});

test('click → landing cookie on the shop → confirmation → the conversion in /v1/stats', async () => {
  const { context, page, errors, shopCookie } = await visitor();
  await page.goto(link('abc123', ['--ad', 'website2', '--sid', 'kw1']));
  assert.match(page.url(), new RegExp(`^${shopUrl}/landing\\?aff_token=v1\\.`));
  await page.waitForFunction(() => document.cookie.includes('aff_token=v1.'));
  const cookie = await shopCookie();
  assert.equal(cookie.domain, 'localhost');
  const token = decodeURIComponent(new URL(page.url()).searchParams.get('aff_token'));
  assert.equal(cookie.value, token);
  // Lifetime from the token's expiry (30 days), not a session cookie.
  const exp = Number(token.split('.')[2]);
  assert.ok(Math.abs(cookie.expires - exp) < 5, `${cookie.expires} vs ${exp}`);

  await page.goto(`${shopUrl}/thanks?order=FLOW-1`);
  const c = await conversion('FLOW-1');
  assert.ok(c, 'the conversion reached the tracker');
  assert.deepEqual([c.partner, c.ad, c.sid, c.amount, c.evidence], ['abc123', 'website2', 'kw1', '49.90', 'token']);
  const r = await fetch(`${trackerUrl}/v1/stats?group_by=partner,ad,sid`, { headers: { Authorization: 'Bearer ' + API_KEY } });
  const row = (await r.json()).rows.find((x) => x.sid === 'kw1');
  assert.equal(row.partner, 'abc123');
  assert.equal(row.ad, 'website2');
  assert.ok(row.sales >= 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test('last click replaces the cookie; data-attribution="first" keeps the earlier one', async () => {
  for (const [attr, expected] of [['', 'solo'], ['first', 'abc123']]) {
    const { context, page, errors } = await visitor();
    // Land twice, each time on a page carrying the attribution option.
    for (const partner of ['abc123', 'solo']) {
      const landing = new URL(await (await fetch(link(partner), { redirect: 'manual' })).headers.get('location'));
      if (attr) landing.searchParams.set('attr', attr);
      await page.goto(landing.toString());
      await page.waitForFunction(() => typeof window.affiliate === 'function' && !window.affiliate.q);
    }
    const order = `ATTR-${attr || 'last'}`;
    await page.goto(`${shopUrl}/thanks?order=${order}${attr ? '&attr=' + attr : ''}`);
    const c = await conversion(order);
    assert.equal(c.partner, expected, attr || 'last');
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test('consent refused, then given: nothing before, everything after', async () => {
  const { context, page, errors, shopCookie } = await visitor();
  const landing = new URL(await (await fetch(link('abc123'), { redirect: 'manual' })).headers.get('location'));
  landing.searchParams.set('consent', 'require');
  await page.goto(landing.toString());
  await page.waitForFunction(() => typeof window.affiliate === 'function' && !window.affiliate.q);
  await page.evaluate(() => affiliate('consent', false));
  assert.equal(await shopCookie(), undefined, 'no cookie without consent');
  await page.evaluate((signature) => affiliate('conversion', { orderId: 'CONSENT-1', amount: '49.90', currency: 'USD', signature }), osig('CONSENT-1'));
  await new Promise((ok) => setTimeout(ok, 500));
  let r = await fetch(`${trackerUrl}/v1/conversions/CONSENT-1`, { headers: { Authorization: 'Bearer ' + API_KEY } });
  assert.equal(r.status, 404, 'nothing sent without consent');
  await page.evaluate(() => affiliate('consent', true));
  await page.waitForFunction(() => document.cookie.includes('aff_token=v1.'));
  assert.ok(await shopCookie(), 'the landing token is kept once consent is given');
  const c = await conversion('CONSENT-1');
  assert.equal(c.partner, 'abc123', 'the held conversion is sent with the token');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a campaign that waits for consent: no tracker cookie, the token stored on consent and deleted when it is withdrawn', async () => {
  const { context, page, errors, shopCookie } = await visitor();
  // The click in the browser: the tracker sets no cookie of its own, and the landing
  // page (its snippet tag has data-require-consent) asks for consent first.
  await page.goto(link('abc123', [], 'eu'));
  const landing = new URL(page.url());
  assert.match(landing.searchParams.get('aff_token'), /^v1\.[^.]+\.\d+\.\d+\.[\w-]+\.eu\.abc123\./);
  assert.deepEqual((await context.cookies(trackerUrl)).map((c) => c.name), [], 'no cookie on the tracker');
  await page.waitForFunction(() => typeof window.affiliate === 'function' && !window.affiliate.q);
  await new Promise((ok) => setTimeout(ok, 300));
  assert.equal(await shopCookie(), undefined, 'nothing stored before consent');
  await page.evaluate(() => affiliate('consent', true));
  // Stored once the tracker vouches for the token (GET /v1/token).
  await page.waitForFunction(() => document.cookie.includes('aff_token=v1.'));
  const stored = await shopCookie();
  assert.equal(stored && stored.value, landing.searchParams.get('aff_token'), 'stored once consent is given');
  await page.evaluate(() => affiliate('consent', false));
  assert.equal(await shopCookie(), undefined, 'consent withdrawn: the stored token is deleted');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a call queued before the snippet loads is sent', async () => {
  const { context, page, errors } = await visitor();
  await page.goto(link('solo'));
  await page.waitForFunction(() => document.cookie.includes('aff_token=v1.'));
  // Hold the snippet back: the page's conversion call runs long before it arrives.
  await page.route('**/snippet.js', async (route) => {
    await new Promise((ok) => setTimeout(ok, 700));
    await route.continue();
  });
  await page.goto(`${shopUrl}/thanks?order=QUEUE-1`, { waitUntil: 'domcontentloaded' });
  assert.equal(await page.evaluate(() => window.affiliate.q && window.affiliate.q.length), 1, 'queued');
  const c = await conversion('QUEUE-1');
  assert.equal(c.partner, 'solo');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the image pixel when sendBeacon and fetch are missing', async () => {
  const { context, page, errors } = await visitor();
  // On the confirmation page only: the landing page checks its token with fetch.
  await context.addInitScript(() => {
    if (location.pathname !== '/thanks') return;
    delete Navigator.prototype.sendBeacon;
    Object.defineProperty(window, 'fetch', { value: undefined });
  });
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(link('abc123', ['--sid', 'px']));
  await page.waitForFunction(() => document.cookie.includes('aff_token=v1.'));
  await page.goto(`${shopUrl}/thanks?order=PIXEL-1`);
  const c = await conversion('PIXEL-1');
  assert.deepEqual([c.partner, c.sid], ['abc123', 'px']);
  assert.ok(requests.some((u) => u.startsWith(`${trackerUrl}/px.gif?`) && u.includes('order_id=PIXEL-1')), 'sent by the pixel');
  assert.ok(!requests.some((u) => u.endsWith('/v1/conversions')));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a malformed or expired token in the URL is ignored; bad calls never throw', async () => {
  const { context, page, errors, shopCookie } = await visitor();
  const t = ['v1', 'k1', '1000', '999', 'A'.repeat(22), 'haircare', 'abc123', '', '', 'B'.repeat(22)].join('.');
  for (const bad of ['garbage', 'v1.k1.x', t, '<script>alert(1)</script>']) {
    await page.goto(`${shopUrl}/landing?aff_token=${encodeURIComponent(bad)}`);
    await page.waitForFunction(() => typeof window.affiliate === 'function' && !window.affiliate.q);
    assert.equal(await shopCookie(), undefined, bad);
  }
  await page.evaluate(() => {
    affiliate();
    affiliate('conversion');
    affiliate('conversion', { orderId: null, amount: {} });
    affiliate('nonsense', 1, 2);
  });
  assert.deepEqual(Object.keys(await page.evaluate(() => Object.fromEntries(
    Object.keys(window).filter((k) => k.startsWith('affiliate')).map((k) => [k, 1])))), ['affiliate'], 'one global');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a forged token in a landing URL is never stored, and never replaces the real one', async () => {
  const { context, page, errors, shopCookie } = await visitor();
  const now = Math.floor(Date.now() / 1000);
  // Fresh, well formed, and signed with another key: the shape is right, the tag is not.
  const forged = ['v1', 'k1', now + 86400, now, randomBytes(16).toString('base64url'), 'haircare', 'solo', '', '',
    randomBytes(16).toString('base64url')].join('.');
  const checked = () => page.waitForResponse((r) => r.url().startsWith(`${trackerUrl}/v1/token?`));
  let answer = checked();
  await page.goto(`${shopUrl}/landing?aff_token=${forged}`);
  assert.equal((await answer).status(), 422);
  assert.equal(await shopCookie(), undefined, 'a forged token is not stored');
  const real = mintToken('abc123', now);
  answer = checked();
  await page.goto(`${shopUrl}/landing?aff_token=${real}`);
  assert.equal((await answer).status(), 204);
  await page.waitForFunction(() => document.cookie.includes('aff_token=v1.'));
  assert.equal((await shopCookie()).value, real);
  // A link carrying the forged token now: the visitor keeps the real one.
  answer = checked();
  await page.goto(`${shopUrl}/landing?aff_token=${forged}`);
  assert.equal((await answer).status(), 422);
  await new Promise((ok) => setTimeout(ok, 200));
  assert.equal((await shopCookie()).value, real, 'the real token stays');
  assert.deepEqual(errors, []);
  await context.close();
});

test('landing tokens: one issued 11 minutes ago stores nothing, one issued now is kept and credits the signed order', async () => {
  const { context, page, errors, shopCookie } = await visitor();
  const now = Math.floor(Date.now() / 1000);
  const stale = mintToken('solo', now - 11 * 60);
  await page.goto(`${shopUrl}/landing?aff_token=${stale}`);
  await page.waitForFunction(() => typeof window.affiliate === 'function' && !window.affiliate.q);
  assert.equal(await shopCookie(), undefined, 'a token issued 11 minutes ago is a shared link, not a click');
  const fresh = mintToken('abc123', now);
  await page.goto(`${shopUrl}/landing?aff_token=${fresh}`);
  await page.waitForFunction(() => document.cookie.includes('aff_token=v1.'));
  assert.equal((await shopCookie()).value, fresh);
  // The confirmation page's order, signed by the shop: attributed to the fresh token.
  await page.goto(`${shopUrl}/thanks?order=FRESH-1`);
  const c = await conversion('FRESH-1');
  assert.ok(c, 'the signed conversion reached the tracker');
  assert.deepEqual([c.partner, c.channel], ['abc123', 'signed_browser']);
  // The same page without the shop's signature is refused: the campaign takes signed orders.
  await page.goto(`${shopUrl}/thanks?order=UNSIGNED-1&unsigned=1`);
  await page.waitForFunction(() => typeof window.affiliate === 'function' && !window.affiliate.q);
  await new Promise((ok) => setTimeout(ok, 500));
  const r = await fetch(`${trackerUrl}/v1/conversions/UNSIGNED-1`, { headers: { Authorization: 'Bearer ' + API_KEY } });
  assert.equal(r.status, 404, 'an unsigned order is not recorded');
  assert.deepEqual(errors, []);
  await context.close();
});

test('data-decorate: link → shop → click to the checkout on a third site → the token there → the checkout conversion attributed', async () => {
  const { context, page, errors, shopCookie } = await visitor();
  await page.goto(link('abc123', ['--sid', 'xdomain']));
  await page.waitForFunction(() => document.cookie.includes('aff_token=v1.'));
  const token = (await shopCookie()).value;
  await page.goto(`${shopUrl}/cart?decorate=127.0.0.2`);
  await page.waitForFunction(() => typeof window.affiliate === 'function' && !window.affiliate.q);
  // Pressing the button (mousedown) already decorates, so "open in new tab" carries it;
  // a link to an unlisted host is left alone.
  await page.dispatchEvent('#pay', 'mousedown');
  await page.dispatchEvent('#elsewhere', 'mousedown');
  assert.equal(await page.getAttribute('#elsewhere', 'href'), 'http://127.0.0.3:9/pay?cart=7');
  const decorated = new URL(await page.getAttribute('#pay', 'href'));
  assert.equal(decorated.searchParams.get('aff_token'), token);
  assert.equal(decorated.searchParams.get('note'), 'a b', 'the link keeps its own query');
  await Promise.all([page.waitForURL(`${checkoutUrl}/**`), page.click('#pay')]);
  assert.equal(new URL(page.url()).searchParams.get('aff_token'), token, 'the token is on the checkout page');
  await page.waitForFunction(() => document.cookie.includes('aff_token=v1.'));
  assert.equal((await context.cookies(checkoutUrl)).find((c) => c.name === 'aff_token').value, token);
  // The hosted checkout's confirmation page: its conversion goes to the partner.
  await page.goto(`${checkoutUrl}/thanks?order=XDOMAIN-1`);
  const c = await conversion('XDOMAIN-1');
  assert.ok(c, 'the checkout conversion reached the tracker');
  assert.deepEqual([c.partner, c.sid, c.evidence], ['abc123', 'xdomain', 'token']);
  assert.deepEqual(errors, []);
  await context.close();
});

test('data-decorate: forms (GET gets a hidden field, POST its action); an old token carried from the shop is kept, the same token typed in is not', async () => {
  const { context, page, errors } = await visitor();
  // The visitor landed 20 minutes ago: the token is in the shop's cookie already.
  const old = mintToken('solo', Math.floor(Date.now() / 1000) - 20 * 60);
  await context.addCookies([{ name: 'aff_token', value: old, url: shopUrl }]);
  const checkoutCookie = async () => (await context.cookies(checkoutUrl)).find((c) => c.name === 'aff_token');
  // Typed in or shared (no referrer from a decorated site): an old token is refused.
  await page.goto(`${checkoutUrl}/pay?aff_token=${old}&decorate=localhost`);
  await page.waitForFunction(() => typeof window.affiliate === 'function' && !window.affiliate.q);
  assert.equal(await checkoutCookie(), undefined, 'an old token without the shop as referrer is a shared link');

  // Carried from the shop (the checkout lists it in its own data-decorate): kept.
  for (const [form, query] of [['#get', { cart: '8', dropped: null }], ['#post', { cart: '9' }], ['#pay', { cart: '7' }]]) {
    await page.goto(`${shopUrl}/cart?decorate=127.0.0.2`);
    await page.waitForFunction(() => typeof window.affiliate === 'function' && !window.affiliate.q);
    await Promise.all([page.waitForURL(`${checkoutUrl}/**`), page.click(form === '#pay' ? form : `${form} button`)]);
    const landed = new URL(page.url());
    assert.equal(landed.searchParams.get('aff_token'), old, form);
    for (const [k, v] of Object.entries(query)) assert.equal(landed.searchParams.get(k), v, `${form} ${k}`);
    assert.equal(await page.evaluate(() => document.referrer), `${shopUrl}/`);
    await page.waitForFunction(() => document.cookie.includes('aff_token=v1.'));
    assert.equal((await checkoutCookie()).value, old, form);
    await context.clearCookies({ domain: '127.0.0.2' });
  }
  assert.deepEqual(errors, []);
  await context.close();
});
