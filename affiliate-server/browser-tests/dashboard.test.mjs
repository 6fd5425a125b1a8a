// The dashboard in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): the real affiliate-server binary, real data, charts drawn.
//
//   AFFILIATE_SERVER_BIN=target/debug/affiliate-server node --test
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launchChromium } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.AFFILIATE_SERVER_BIN || join(here, '../../target/debug/affiliate-server');
const API_KEY = 'browser-test-key-0123456789';
const KEY = Buffer.alloc(32, 9).toString('base64url');

let dir, server, base, browser;

function config() {
  return `
[server]
listen = "127.0.0.1:0"
public_url = "http://127.0.0.1"
data_dir = "data"
api_keys = ["${API_KEY}"]

[keys]
current = "k1"
k1 = "${KEY}"

[events]
allow_private_destinations = true

[[campaign]]
code = "haircare"
destination = "https://shop.example/hair"
currency = "USD"
sale_percent = "10"
override_percents = ["10"]

[[campaign]]
code = "skincare"
destination = "https://shop.example/skin"
currency = "EUR"
sale_flat = "5.00"

[[partner]]
code = "boss1"

[[partner]]
code = "abc123"
parent = "boss1"

[[partner]]
code = "solo"
`;
}

function link(file, campaign, partner, extra = []) {
  const url = execFileSync(BIN, ['link', '--config', file, '--campaign', campaign, '--partner', partner, ...extra])
    .toString().trim();
  return new URL(url).pathname + new URL(url).search;
}

async function click(path) {
  const r = await fetch(base + path, { redirect: 'manual' });
  assert.equal(r.status, 302);
  return /aff_token=([^;]+)/.exec(r.headers.get('set-cookie'))[1];
}

async function postback(body) {
  const r = await fetch(base + '/v1/postback', {
    method: 'POST', body: JSON.stringify(body),
    headers: { Authorization: 'Bearer ' + API_KEY },
  });
  assert.equal(r.status, 201, await r.text());
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'affiliate-dashboard-'));
  const file = join(dir, 'affiliate.toml');
  writeFileSync(file, config());
  ({ child: server, url: base } = await startServer(BIN, file));
  // 3 clicks and 2 sales for abc123 (haircare, USD), 1 click and 1 sale for solo (skincare, EUR).
  const hair = link(file, 'haircare', 'abc123', ['--sid', 'kw1']);
  const t1 = await click(hair);
  await click(hair);
  await click(hair);
  const t2 = await click(link(file, 'skincare', 'solo'));
  await postback({ order_id: 'D-1', amount: '49.90', currency: 'USD', token: t1 });
  await postback({ order_id: 'D-2', amount: '100.00', currency: 'USD', token: t1 });
  await postback({ order_id: 'D-3', amount: '30.00', currency: 'EUR', token: t2 });
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openDashboard(key) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${base}/dashboard#key=${encodeURIComponent(key)}`);
  await page.waitForSelector('body[data-ready]', { timeout: 15000 });
  return { page, errors, context };
}

test('charts render with the stats', async () => {
  const { page, errors, context } = await openDashboard(API_KEY);
  assert.equal(await page.getAttribute('body', 'data-ready'), 'true', await page.textContent('#status'));
  // The key left the address bar (it came in the fragment).
  assert.ok(!page.url().includes(API_KEY));

  const charts = await page.evaluate(() => Object.fromEntries(
    ['daily-counts', 'daily-money', 'partner-counts', 'partner-money'].map((id) => {
      const chart = Chart.getChart(id);
      const canvas = document.getElementById(id);
      // Count non-transparent pixels: a drawn chart has bars, lines and axes.
      const ctx = canvas.getContext('2d');
      const img = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < img.length; i += 4) if (img[i] !== 0) painted++;
      return [id, {
        type: chart.config.type,
        labels: chart.data.labels,
        sets: Object.fromEntries(chart.data.datasets.map((d) => [d.label, d.data])),
        painted,
        width: canvas.width,
      }];
    })));
  const sum = (a) => a.reduce((x, y) => x + y, 0);

  const today = new Date().toISOString().slice(0, 10);
  const daily = charts['daily-counts'];
  assert.equal(daily.labels.length, 30, 'thirty days');
  assert.equal(daily.labels.at(-1), today);
  assert.equal(sum(daily.sets.clicks), 4);
  assert.equal(sum(daily.sets.conversions), 3);
  assert.equal(daily.sets.clicks.at(-1), 4, 'all of it today');

  const money = charts['daily-money'].sets;
  assert.equal(sum(money['revenue USD']), 149.9);
  assert.equal(sum(money['revenue EUR']), 30);
  // 10 % of 149.90 = 14.99 for abc123 plus 10 % override (1.50) for boss1.
  assert.equal(Math.round(sum(money['commission USD']) * 100), 1649);
  assert.equal(sum(money['commission EUR']), 5);

  const partners = charts['partner-counts'];
  assert.deepEqual(partners.labels, ['abc123', 'solo']);
  assert.deepEqual(partners.sets.clicks, [3, 1]);
  assert.deepEqual(partners.sets.conversions, [2, 1]);
  assert.deepEqual(charts['partner-money'].sets['revenue USD'], [149.9, 0]);

  for (const [id, c] of Object.entries(charts)) {
    assert.ok(c.width > 100, `${id} has a size`);
    assert.ok(c.painted > 1000, `${id} is drawn (${c.painted} painted pixels)`);
  }
  const rows = await page.$$eval('#partners tbody tr', (trs) => trs.map((tr) => tr.textContent));
  assert.equal(rows.length, 2);
  assert.match(rows[0], /abc123.*149\.90 USD/);
  assert.match(await page.textContent('#status'), /4 clicks and 3 conversions/);
  if (process.env.DASHBOARD_SCREENSHOT) await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT, fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a wrong key shows the error and draws nothing', async () => {
  const { page, context } = await openDashboard('wrong-key-0123456789abcdef');
  assert.equal(await page.getAttribute('body', 'data-ready'), 'error');
  assert.match(await page.textContent('#status'), /unauthorized: wrong API key/);
  assert.equal(await page.evaluate(() => Chart.getChart('daily-counts')), undefined);
  await context.close();
});

async function openProgram() {
  const { page, errors, context } = await openDashboard(API_KEY);
  await page.waitForSelector('body[data-program="ready"]', { timeout: 15000 });
  return { page, errors, context };
}

async function apiGet(path) {
  const r = await fetch(base + path, { headers: { Authorization: 'Bearer ' + API_KEY } });
  return r.json();
}

test('partners: create one, suspend and activate it, give it a coupon, make its link', async () => {
  const { page, errors, context } = await openProgram();
  const codes = await page.$$eval('#program-partners tbody tr', (trs) => trs.map((tr) => tr.dataset.partner));
  assert.deepEqual(codes, ['abc123', 'boss1', 'solo']);
  // The file's partners are the file's: no suspend button for them.
  assert.match(await page.textContent('tr[data-partner="abc123"] .status'), /active \(config\)/);
  assert.equal(await page.$('tr[data-partner="abc123"] .toggle'), null);

  await page.fill('#new-partner [name=code]', 'newbie');
  await page.fill('#new-partner [name=parent]', 'boss1');
  await page.fill('#new-partner [name=name]', 'New Bie');
  await page.click('#new-partner button[type=submit]');
  await page.waitForSelector('tr[data-partner="newbie"]');
  assert.equal((await apiGet('/v1/partners/newbie')).parent, 'boss1');

  await page.click('tr[data-partner="newbie"] .toggle');
  await page.waitForFunction(() => document.querySelector('tr[data-partner="newbie"] .status').textContent === 'suspended');
  assert.equal((await apiGet('/v1/partners/newbie')).status, 'suspended');
  await page.click('tr[data-partner="newbie"] .toggle');
  await page.waitForFunction(() => document.querySelector('tr[data-partner="newbie"] .status').textContent === 'active');

  await page.fill('tr[data-partner="newbie"] .coupon-code', 'new10');
  await page.click('tr[data-partner="newbie"] .add-coupon');
  await page.waitForFunction(() => document.querySelector('tr[data-partner="newbie"] .coupons').textContent === 'NEW10');
  assert.deepEqual((await apiGet('/v1/partners/newbie')).coupons, [{ code: 'NEW10', campaign: null }]);
  // A bad code is refused, and the page says why.
  await page.fill('tr[data-partner="newbie"] .coupon-code', 'two words');
  await page.click('tr[data-partner="newbie"] .add-coupon');
  await page.waitForFunction(() => /^malformed: malformed coupon/.test(document.getElementById('program-status').textContent));
  assert.deepEqual((await apiGet('/v1/partners/newbie')).coupons, [{ code: 'NEW10', campaign: null }]);

  await page.selectOption('#link-campaign', 'haircare');
  await page.click('tr[data-partner="newbie"] .make-link');
  await page.waitForFunction(() => document.getElementById('link-out').textContent.length > 0);
  const url = new URL(await page.textContent('#link-out'));
  assert.equal(url.pathname, '/go/haircare/newbie');
  const r = await fetch(base + url.pathname + url.search, { redirect: 'manual' });
  assert.equal(r.status, 302);
  assert.match(r.headers.get('set-cookie'), /^aff_token=v1\./, 'the link credits newbie');
  // The refused coupon's 400 is the only thing the console reports.
  assert.deepEqual(errors, ['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  await context.close();
});

test('conversions: filter, approve and reject in bulk, download the CSV', async () => {
  const { page, errors, context } = await openProgram();
  const shown = () => page.$$eval('#conversions tbody tr', (trs) => trs.map((tr) => [tr.dataset.order, tr.querySelector('.status').textContent]));
  // Pending by default, newest first.
  assert.deepEqual((await shown()).map((r) => r[0]).sort(), ['D-1', 'D-2', 'D-3']);
  await page.check('tr[data-order="D-1"] .pick');
  await page.check('tr[data-order="D-3"] .pick');
  await page.click('#review-approve');
  await page.waitForFunction(() => /2 approved/.test(document.getElementById('review-status-line').textContent));
  assert.deepEqual(await shown(), [['D-2', 'pending']]);
  assert.equal((await apiGet('/v1/conversions/D-1')).status, 'approved');
  // Balances: abc123's 10 % of the approved 49.90 is payable, its parent's override
  // on its own row.
  const payable = (p) => page.$eval(`#balances tr[data-partner="${p}"][data-currency="USD"] .payable`, (td) => td.textContent);
  assert.equal(await payable('abc123'), '4.99');
  assert.equal(await payable('boss1'), '0.50');
  assert.equal(await page.$eval('#balances tr[data-partner="abc123"][data-currency="USD"] .pending', (td) => td.textContent), '10.00');
  await page.check('tr[data-order="D-2"] .pick');
  await page.click('#review-reject');
  await page.waitForFunction(() => /1 rejected/.test(document.getElementById('review-status-line').textContent));
  await page.selectOption('#review-status', 'approved');
  await page.waitForFunction(() => document.querySelectorAll('#conversions tbody tr').length === 2);
  assert.deepEqual((await shown()).map((r) => r[1]), ['approved', 'approved']);
  // Approved ones may still be rejected.
  await page.check('#review-all');
  await page.click('#review-reject');
  await page.waitForFunction(() => /2 rejected/.test(document.getElementById('review-status-line').textContent));
  await page.selectOption('#review-status', '');
  await page.waitForFunction(() => document.querySelectorAll('#conversions tbody tr').length === 3);

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#review-csv')]);
  assert.equal(download.suggestedFilename(), 'conversions.csv');
  const csv = readFileSync(await download.path(), 'utf8');
  const lines = csv.trim().split('\r\n');
  assert.match(lines[0], /^order_id,converted_at,kind,amount,currency,campaign,partner/);
  assert.equal(lines.length, 4);
  assert.ok(lines.some((l) => l.startsWith('D-3,') && l.includes(',30.00,EUR,skincare,solo,') && l.includes(',rejected,')), csv);
  assert.deepEqual(errors, []);
  await context.close();
});

test('payouts: a run for a currency, paid and failed, balances follow, the CSV', async () => {
  // Sales of their own (the review test rejects D-1 to D-3), approved through the API.
  for (const id of ['PO-1', 'PO-2']) {
    const body = { order_id: id, amount: '100.00', currency: 'USD', kind: 'sale', campaign: 'haircare', partner: 'abc123' };
    const auth = { Authorization: 'Bearer ' + API_KEY };
    assert.equal((await fetch(base + '/v1/conversions/manual', { method: 'POST', body: JSON.stringify(body), headers: auth })).status, 201);
    const r = await fetch(base + '/v1/conversions/status', { method: 'POST', body: JSON.stringify({ order_ids: [id], status: 'approved' }), headers: auth });
    assert.equal(r.status, 200);
  }
  const { page, errors, context } = await openProgram();
  const cellOf = (table, p, cls) => page.$eval(`#${table} tr[data-partner="${p}"] .${cls}`, (td) => td.textContent);
  assert.equal(await page.$$eval('#payouts tbody tr', (trs) => trs.length), 0);
  await page.fill('#payout-run [name=currency]', 'usd');
  await page.fill('#payout-run [name=min_amount]', '1.00');
  // A double submit sends one Idempotency-Key twice: one run.
  await page.evaluate(() => { const f = document.getElementById('payout-run'); f.requestSubmit(); f.requestSubmit(); });
  await page.waitForFunction(() => /2 payouts created/.test(document.getElementById('payouts-status-line').textContent));
  assert.equal((await apiGet('/v1/payouts')).payouts.length, 2, 'one run, not two');
  assert.equal(await cellOf('payouts', 'abc123', 'amount'), '20.00');
  assert.equal(await cellOf('payouts', 'boss1', 'amount'), '2.00');
  assert.equal(await cellOf('balances', 'abc123', 'in-payout'), '20.00');
  assert.equal(await cellOf('balances', 'abc123', 'payable'), '0.00');

  await page.click('#payouts tr[data-partner="abc123"] button.paid');
  await page.waitForFunction(() => document.querySelector('#payouts tr[data-partner="abc123"] .status').textContent === 'paid');
  await page.waitForFunction(() => document.querySelector('#balances tr[data-partner="abc123"] .paid').textContent === '20.00');
  await page.click('#payouts tr[data-partner="boss1"] button.failed');
  await page.waitForFunction(() => document.querySelector('#payouts tr[data-partner="boss1"] .status').textContent === 'failed');
  // The balances table is redrawn after the payouts table: wait for it, then check.
  await page.waitForFunction(() => document.querySelector('#balances tr[data-partner="boss1"] .payable').textContent === '2.00', null, { timeout: 5000 }).catch(() => {});
  assert.equal(await cellOf('balances', 'boss1', 'payable'), '2.00', 'a failed payout returns its entries');
  assert.equal(await page.$('#payouts tr[data-partner="abc123"] button'), null, 'a paid payout has no actions');
  assert.equal((await apiGet('/v1/conversions/PO-1')).status, 'approved', "boss1's share is not paid yet");

  // The next run pays boss1's returned 2.00 again; then nobody is owed anything.
  await page.click('#payout-run button[type=submit]');
  await page.waitForFunction(() => /^1 payout created/.test(document.getElementById('payouts-status-line').textContent));
  assert.equal(await page.$$eval('#payouts tr[data-partner="boss1"]', (trs) => trs.map((tr) => tr.querySelector('.status').textContent).sort().join()), 'failed,pending');
  await page.click('#payout-run button[type=submit]');
  await page.waitForFunction(() => /Nobody is owed enough yet/.test(document.getElementById('payouts-status-line').textContent));
  // A bad minimum is refused with the server's reason.
  await page.fill('#payout-run [name=min_amount]', '-3');
  await page.click('#payout-run button[type=submit]');
  await page.waitForFunction(() => /^malformed:/.test(document.getElementById('payouts-status-line').textContent));

  // A bonus from the dashboard: in the adjustments table (its memo as text) and the
  // balances.
  await page.fill('#adjustment-form [name=partner]', 'abc123');
  await page.fill('#adjustment-form [name=amount]', '7.50');
  await page.fill('#adjustment-form [name=memo]', 'Spring push <i>bonus</i>');
  await page.click('#adjustment-form button[type=submit]');
  await page.waitForFunction(() => /abc123: 7\.50 USD \(bonus\) added/.test(document.getElementById('adjustments-status-line').textContent));
  assert.equal(await cellOf('adjustments', 'abc123', 'memo'), 'Spring push <i>bonus</i>');
  assert.equal(await page.$('#adjustments i'), null, 'the memo is text');
  assert.equal(await cellOf('balances', 'abc123', 'payable'), '7.50');

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#payouts-csv')]);
  assert.equal(download.suggestedFilename(), 'payouts.csv');
  const lines = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
  assert.equal(lines[0], 'id,partner,name,payout_details,currency,amount,entries,status,created,updated');
  assert.equal(lines.length, 4);
  assert.ok(lines.some((l) => l.includes(',abc123,') && l.includes(',USD,20.00,2,paid,')), lines.join('\n'));
  assert.deepEqual(errors, ['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  await context.close();
});

test('webhooks: add one (its secret shown once), a failed delivery in the log, sent again, removed', async () => {
  // A receiver on 127.0.0.1 that fails until told otherwise.
  const got = [];
  let answer = 500;
  const rx = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { got.push({ headers: req.headers, body, answer }); res.writeHead(answer); res.end(); });
  });
  await new Promise((r) => rx.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${rx.address().port}/hooks`;
  const { page, errors, context } = await openProgram();
  await page.fill('#new-webhook [name=url]', hookUrl);
  await page.check('#new-webhook input[value="conversion.created"]');
  await page.click('#new-webhook button[type=submit]');
  await page.waitForFunction(() => /added/.test(document.getElementById('webhooks-status-line').textContent));
  const secret = await page.inputValue('#webhook-secret');
  assert.match(secret, /^whsec_/);
  const id = await page.$eval('#webhooks tbody tr', (tr) => tr.dataset.webhook);
  assert.match(id, /^wh_/);
  const listed = await apiGet('/v1/webhooks');
  assert.ok(!JSON.stringify(listed).includes(secret.slice(6)), 'the list never shows the secret');
  assert.equal(await page.$eval(`#webhooks tr[data-webhook="${id}"] td:nth-child(3)`, (td) => td.textContent), 'conversion.created');

  const body = { order_id: 'WH-1', amount: '10.00', currency: 'USD', kind: 'sale', campaign: 'haircare', partner: 'solo' };
  const r = await fetch(base + '/v1/conversions/manual', { method: 'POST', body: JSON.stringify(body), headers: { Authorization: 'Bearer ' + API_KEY } });
  assert.equal(r.status, 201);
  for (let i = 0; got.length === 0 && i < 100; i++) await new Promise((res) => setTimeout(res, 50));
  assert.equal(got.length, 1);
  assert.equal(JSON.parse(got[0].body).data.order_id, 'WH-1');
  assert.match(got[0].headers['webhook-signature'], /^v1,/);
  await page.click(`#webhooks tr[data-webhook="${id}"] button.log`);
  await page.waitForSelector('#deliveries tbody tr');
  assert.equal(await page.$eval('#deliveries tbody tr .state', (td) => td.textContent), 'pending');
  assert.match(await page.$eval('#deliveries tbody tr .last', (td) => td.textContent), /500 answered 500/);

  answer = 204;
  await page.click('#deliveries tbody tr button.retry');
  await page.waitForFunction(() => /Sent again/.test(document.getElementById('webhooks-status-line').textContent));
  for (let i = 0; got.length < 2 && i < 100; i++) await new Promise((res) => setTimeout(res, 50));
  assert.equal(got.length, 2);
  assert.equal(got[1].headers['webhook-id'], got[0].headers['webhook-id'], 'the same message id');
  // The log shows it delivered once reloaded.
  let delivered = false;
  for (let i = 0; !delivered && i < 50; i++) {
    delivered = await page.evaluate(async (hook) => {
      await window.affiliateWebhooks.deliveries(hook);
      return document.querySelector('#deliveries tbody tr .state').textContent === 'delivered';
    }, id);
    if (!delivered) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(delivered, 'the log shows it delivered');

  await page.click(`#webhooks tr[data-webhook="${id}"] button.remove`);
  await page.waitForFunction(() => /removed/.test(document.getElementById('webhooks-status-line').textContent));
  // The list is drawn again after the status line: wait for it, then check.
  await page.waitForFunction(() => document.querySelectorAll('#webhooks tbody tr').length === 0, null, { timeout: 5000 }).catch(() => {});
  assert.equal(await page.$$eval('#webhooks tbody tr', (trs) => trs.length), 0);
  assert.ok(await page.$eval('#deliveries-view', (el) => el.hidden));
  // A refused destination is shown with the server's reason.
  await page.fill('#new-webhook [name=url]', 'ftp://x.example/');
  await page.click('#new-webhook button[type=submit]');
  await page.waitForFunction(() => /^malformed:/.test(document.getElementById('webhooks-status-line').textContent));
  assert.deepEqual(errors, ['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  await context.close();
  rx.close();
});

test('the vendored Chart.js is the npm package, unchanged', () => {
  const vendored = readFileSync(join(here, '../assets/chart.umd.min.js'));
  const npm = readFileSync(join(here, 'node_modules/chart.js/dist/chart.umd.min.js'));
  assert.ok(vendored.equals(npm), 'assets/chart.umd.min.js differs from node_modules/chart.js');
});
