// The partner portal in headless Chromium: a merchant makes a sign-in link; the partner
// opens it, makes a link for its child with the child's ad and a sid; a visitor in
// another browser context clicks it and buys; the parent's reports show the click and
// the sale by child and by sid, its earnings the override; the used sign-in link is
// refused; a cross-site form post to a partner write endpoint changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launchChromium } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.AFFILIATE_SERVER_BIN || join(here, '../../target/debug/affiliate-server');
const API_KEY = 'portal-test-key-0123456789';
const KEY = Buffer.alloc(32, 5).toString('base64url');

let dir, server, base, browser, attacker, attackerUrl;

const config = () => `
[server]
listen = "127.0.0.1:0"
public_url = "http://127.0.0.1"
data_dir = "data"
api_keys = ["${API_KEY}"]

[keys]
current = "k1"
k1 = "${KEY}"

[[campaign]]
code = "haircare"
destination = "https://shop.example/hair"
currency = "USD"
sale_percent = "10"
override_percents = ["10"]
deep_link_hosts = ["shop.example"]

[[partner]]
code = "pa"

[[partner]]
code = "kid1"
parent = "pa"

[[partner]]
code = "pb"
`;

async function api(method, path, body, auth = 'Bearer ' + API_KEY) {
  const r = await fetch(base + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { Authorization: auth } });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'affiliate-portal-'));
  const file = join(dir, 'affiliate.toml');
  writeFileSync(file, config());
  ({ child: server, url: base } = await startServer(BIN, file));
  // The child's own ad, made with the child's key.
  const key = (await api('POST', '/v1/partners/kid1/keys', {})).json.key;
  const ad = await api('POST', '/v1/partner/ads', { code: 'banner7', name: 'Summer banner', media_type: 'image' }, 'Bearer ' + key);
  assert.equal(ad.status, 201);
  // Another site (localhost is another site than 127.0.0.1) with a form that posts to
  // the partner API.
  attacker = createServer((req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<form id="f" method="POST" enctype="text/plain" action="${base}/v1/partner/ads">
      <input name='{"code":"evil1","name":"x","media_type":"text","pad":"' value='"}'></form>
      <script>document.getElementById('f').submit()</script>`);
  });
  await new Promise((ok) => attacker.listen(0, '127.0.0.1', ok));
  attackerUrl = `http://localhost:${attacker.address().port}/`;
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (attacker) attacker.close();
  if (server) server.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// The merchant makes the sign-in link on the dashboard (the config's public URL has
// no port: the link is taken as a path on this server).
async function signInLinkFromDashboard(partner) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/dashboard#key=${encodeURIComponent(API_KEY)}`);
  await page.waitForSelector('body[data-program="ready"]', { timeout: 15000 });
  await page.click(`#program-partners tr[data-partner="${partner}"] .portal-link`);
  await page.waitForFunction(() => /portal\/login\?t=/.test(document.getElementById('link-out').textContent));
  const u = new URL(await page.textContent('#link-out'));
  await context.close();
  return base + u.pathname + u.search;
}

test('a partner signs in with a link, makes a link for its child, and sees the sale it brought', async () => {
  const link = await signInLinkFromDashboard('pa');
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(link);
  await page.waitForSelector('body[data-ready]', { timeout: 15000 });
  assert.equal(new URL(page.url()).pathname, '/portal');
  assert.match(await page.textContent('#who'), /^pa/);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'aff_portal');
  assert.ok(session && session.httpOnly && session.sameSite === 'Strict', JSON.stringify(cookies));

  // A link for the child, with the child's ad, a sid and a product page (a deep link).
  await page.selectOption('#link-campaign', 'haircare');
  await page.selectOption('#link-partner', 'kid1');
  await page.waitForFunction(() => Array.from(document.querySelectorAll('#link-ad option')).some((o) => o.value === 'banner7'));
  await page.selectOption('#link-ad', 'banner7');
  await page.fill('#link-form [name=sid]', 'kw7');
  await page.fill('#link-form [name=to]', 'https://shop.example/p/7?color=red');
  await page.click('#link-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('link-out').textContent.length > 0);
  const made = new URL(await page.textContent('#link-out'));
  assert.equal(made.pathname, '/go/haircare/kid1/banner7');
  assert.equal(made.searchParams.get('sid'), 'kw7');
  assert.equal(made.searchParams.get('to'), 'https://shop.example/p/7?color=red');

  // A visitor in another context clicks it; the shop reports the sale.
  const visitor = await browser.newContext();
  const click = await visitor.request.get(base + made.pathname + made.search, { maxRedirects: 0 });
  assert.equal(click.status(), 302);
  const token = /aff_token=([^;]+)/.exec(click.headers()['set-cookie'])[1];
  assert.equal(click.headers().location, `https://shop.example/p/7?color=red&aff_token=${token}`);
  await visitor.close();
  const sale = await api('POST', '/v1/postback', { order_id: 'P-77', amount: '200.00', currency: 'USD', token });
  assert.equal(sale.status, 201);
  // A bonus for the parent, its memo shown as text (markup stays text).
  const bonus = await fetch(base + '/v1/adjustments', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + API_KEY, 'Idempotency-Key': 'portal-bonus-1' },
    body: JSON.stringify({ partner: 'pa', currency: 'USD', amount: '5.00', memo: 'Top <b>referrer</b> of March', kind: 'bonus' })
  });
  assert.equal(bonus.status, 201, await bonus.text());

  // The parent's reports: by child, by sid; its earnings: the override, pending.
  await page.reload();
  await page.waitForSelector('body[data-ready]', { timeout: 15000 });
  const row = (table, key) => page.$eval(`#${table} tr[data-key="${key}"]`, (tr) => [tr.querySelector('.clicks').textContent, tr.querySelector('.sales').textContent, tr.querySelector('.commission').textContent]);
  assert.deepEqual(await row('by-partner', 'kid1'), ['1', '1', '22.00 USD']);
  assert.deepEqual(await row('by-sid', 'kw7'), ['1', '1', '22.00 USD']);
  assert.deepEqual(await row('by-ad', 'banner7'), ['1', '1', '22.00 USD']);
  assert.equal(await page.$eval('#balance tr[data-currency="USD"] .pending', (td) => td.textContent), '2.00');
  assert.equal(await page.$eval('#balance tr[data-currency="USD"] .payable', (td) => td.textContent), '5.00');
  assert.deepEqual(await page.$$eval('#adjustments tbody tr', (trs) => trs.map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent, tr.cells[2].textContent])),
    [['Top <b>referrer</b> of March', '5.00 USD', 'bonus']]);
  assert.equal(await page.$('#adjustments b'), null, 'the memo is text, not markup');
  assert.equal(await page.$('#by-partner tr[data-key="pb"]'), null);
  // The child's sale and the parent's 2.00 override on it, nothing of pb.
  const conv = await page.evaluate(() => fetch('/v1/partner/conversions').then((r) => r.json()));
  assert.deepEqual(conv.conversions.map((c) => [c.order_id, c.partner, c.commission]), [['P-77', 'kid1', '2.00']]);

  // The used sign-in link, opened again in a fresh context, is refused.
  const again = await browser.newContext();
  const p2 = await again.newPage();
  await p2.goto(link);
  await p2.waitForSelector('body[data-signed-out]', { timeout: 15000 });
  assert.equal(new URL(p2.url()).search, '?error=forbidden');
  assert.match(await p2.textContent('#status'), /used already/);
  assert.ok(!(await again.cookies()).some((c) => c.name === 'aff_portal'));
  await again.close();

  assert.deepEqual(errors, []);
  // A cross-site form post with the signed-in browser: refused, nothing made.
  await page.goto(attackerUrl);
  await page.waitForURL(/\/v1\/partner\/ads/, { timeout: 15000 });
  assert.match(await page.textContent('body'), /"code":"(unauthorized|forbidden)"/);
  const ads = (await api('GET', '/v1/partner/ads?partner=kid1', undefined, 'Bearer ' + (await api('POST', '/v1/partners/pa/keys', {})).json.key)).json.ads;
  assert.deepEqual(ads.map((a) => a.code), ['banner7']);
  const mine = (await api('GET', '/v1/partner/ads', undefined, 'Bearer ' + (await api('POST', '/v1/partners/pa/keys', {})).json.key)).json.ads;
  assert.deepEqual(mine, [], 'the cross-site post made no ad');
  await context.close();
});

test('a partner signs in with its key and changes its postback URL', async () => {
  // A partner of the API (the file's partners are the file's to change).
  assert.equal((await api('POST', '/v1/partners', { code: 'pc' })).status, 201);
  const key = (await api('POST', '/v1/partners/pc/keys', {})).json.key;
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(base + '/portal');
  await page.waitForSelector('body[data-signed-out]', { timeout: 15000 });
  await page.fill('#key', key);
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('body[data-ready]', { timeout: 15000 });
  assert.match(await page.textContent('#who'), /^pc/);
  await page.fill('#profile-form [name=postback_url]', 'https://t.partner.example/pb?o={order_id}&s={status}');
  await page.click('#profile-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('profile-status').textContent === 'Saved.');
  assert.equal((await api('GET', '/v1/partners/pc')).json.postback_url, 'https://t.partner.example/pb?o={order_id}&s={status}');
  // A sale of its own: its postback is tried (the name resolves nowhere here, so the
  // attempt fails and waits for a retry) and the portal shows it, filled in.
  const sale = { order_id: 'PC-1&2', amount: '10.00', currency: 'USD', kind: 'sale', campaign: 'haircare', partner: 'pc' };
  assert.equal((await api('POST', '/v1/conversions/manual', sale)).status, 201);
  let tried = false;
  for (let i = 0; !tried && i < 60; i++) {
    tried = await page.evaluate(async () => {
      await window.affiliatePortal.loadPostbacks();
      const row = document.querySelector('#postbacks tbody tr');
      return Boolean(row) && row.children[4].textContent !== '—';
    });
    if (!tried) await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(tried, 'the postback was tried and shown');
  const cells = await page.$$eval('#postbacks tbody tr td', (tds) => tds.map((td) => td.textContent));
  assert.equal(cells[1], 'conversion.created');
  assert.equal(cells[2], 'pending');
  assert.match(cells[4], /does not resolve|refused/);
  assert.equal(cells[5], 'https://t.partner.example/pb?o=PC-1%262&s=pending');
  // A field a partner may not change is refused with the server's reason.
  const r = await page.evaluate((k) => fetch('/v1/partner/me', { method: 'PATCH', headers: { Authorization: 'Bearer ' + k }, body: '{"parent":"pa"}' }).then((r) => r.status), key);
  assert.equal(r, 403);
  await context.close();
});
