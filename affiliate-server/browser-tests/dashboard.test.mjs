// The dashboard in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): the real affiliate-server binary, real data, charts drawn.
//
//   AFFILIATE_SERVER_BIN=target/debug/affiliate-server node --test
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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

test('the vendored Chart.js is the npm package, unchanged', () => {
  const vendored = readFileSync(join(here, '../assets/chart.umd.min.js'));
  const npm = readFileSync(join(here, 'node_modules/chart.js/dist/chart.umd.min.js'));
  assert.ok(vendored.equals(npm), 'assets/chart.umd.min.js differs from node_modules/chart.js');
});
