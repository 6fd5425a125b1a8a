// The edge worker under Node: Request in, Response out, as a worker platform calls it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring, LinkSigner, verifyToken, tokenExpiry } from 'affiliate-sdk';
import worker, { createWorker } from './worker.mjs';

const ORIGIN = 'https://t.shop.example';
const DAY = 86_400;

function setup(extra = {}) {
  const keys = Keyring.generate();
  const clicks = [];
  const w = createWorker({
    keys,
    campaigns: [
      { code: 'haircare', destination: 'https://shop.example/hair?ref=aff#top', currency: 'USD', cookie_days: 28, click_flat: '0.05' },
      { code: 'spring', destination: 'https://shop.example/spring', currency: 'EUR', attribution: 'first' },
    ],
    partners: [{ code: 'abc123' }, { code: 'mid1', parent: 'abc123' }],
    onClick: (c) => clicks.push(c),
    ...extra,
  });
  return { keys, w, clicks, signer: new LinkSigner(keys, `${ORIGIN}/go`) };
}

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const get = (w, url, cookie, agent = CHROME) => w.fetch(new Request(url, {
  headers: { 'user-agent': agent, ...(cookie ? { cookie } : {}) }, redirect: 'manual',
}));

test('a bot, crawler or link preview lands with no token or cookie and is reported as a bot click', async () => {
  const { w, clicks, signer } = setup();
  for (const agent of ['Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)', 'curl/8.5.0', '']) {
    const res = await get(w, signer.build('haircare', 'abc123'), undefined, agent);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), 'https://shop.example/hair?ref=aff#top');
    assert.equal(res.headers.get('set-cookie'), null);
  }
  assert.equal(clicks.length, 3);
  assert.ok(clicks.every((c) => c.bot === true && c.partner === 'abc123' && c.clickId === undefined));
});

test('a valid link: click reported, token cookie for the whole window, 302 with the token', async () => {
  const { keys, w, clicks, signer } = setup();
  const res = await get(w, `${signer.build('haircare', 'abc123', { ad: 'w2' })}&sid=kw1&utm_source=mail`);
  assert.equal(res.status, 302);
  const location = new URL(res.headers.get('location'));
  assert.equal(`${location.origin}${location.pathname}`, 'https://shop.example/hair');
  assert.equal(location.searchParams.get('ref'), 'aff');
  assert.equal(location.hash, '#top');
  const token = location.searchParams.get('aff_token');
  const cookie = res.headers.get('set-cookie');
  assert.equal(cookie, `aff_token=${token}; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=${28 * DAY}`);
  const claims = verifyToken(keys, token);
  assert.deepEqual({ ...claims, clickId: undefined, issuedAt: undefined, expiresAt: undefined }, {
    clickId: undefined, campaign: 'haircare', partner: 'abc123', ad: 'w2', sid: 'kw1', issuedAt: undefined, expiresAt: undefined,
  });
  assert.equal(claims.expiresAt - claims.issuedAt, 28 * DAY);
  assert.equal(clicks.length, 1);
  assert.equal(clicks[0].clickId, claims.clickId);
  assert.equal(clicks[0].unique, true);
  assert.deepEqual([clicks[0].currency, clicks[0].commission, clicks[0].sid], ['USD', '0.05', 'kw1']);
  // The same visitor again within a day: counted, not unique, a fresh token (last click).
  const again = await get(w, signer.build('haircare', 'abc123'), `aff_token=${token}`);
  assert.equal(clicks.length, 2);
  assert.equal(clicks[1].unique, false);
  assert.notEqual(new URL(again.headers.get('location')).searchParams.get('aff_token'), token);
});

test('a first-click campaign keeps the earlier token and its remaining window', async () => {
  const { w, clicks, signer } = setup();
  const first = await get(w, signer.build('spring', 'abc123'));
  const token = new URL(first.headers.get('location')).searchParams.get('aff_token');
  const second = await get(w, signer.build('spring', 'mid1'), `theme=dark; aff_token=${token}`);
  assert.equal(new URL(second.headers.get('location')).searchParams.get('aff_token'), token);
  const maxAge = Number(/Max-Age=(\d+)/.exec(second.headers.get('set-cookie'))[1]);
  assert.ok(Math.abs(maxAge - (tokenExpiry(token) - Math.floor(Date.now() / 1000))) <= 1);
  assert.deepEqual(clicks.map((c) => [c.partner, c.keptEarlier]), [['abc123', false], ['mid1', true]]);
});

test('altered, unsigned and foreign links credit nobody and set nothing', async () => {
  const { w, clicks, signer } = setup();
  const good = signer.build('haircare', 'abc123');
  for (const bad of [
    good.replace('abc123', 'abc124'),
    good.split('?')[0],
    new LinkSigner(Keyring.generate(), `${ORIGIN}/go`).build('haircare', 'abc123'),
    `${good}&sig=k1.AAAAAAAAAAAAAAAAAAAAAA`,
  ]) {
    const res = await get(w, bad);
    assert.equal(res.status, 302, bad);
    assert.equal(res.headers.get('location'), 'https://shop.example/hair?ref=aff#top');
    assert.equal(res.headers.get('set-cookie'), null);
  }
  assert.equal((await get(w, signer.build('nope', 'abc123'))).status, 404);
  assert.equal((await get(w, `${ORIGIN}/elsewhere`)).status, 404);
  const post = await w.fetch(new Request(good, { method: 'POST' }));
  assert.equal(post.status, 404);
  assert.equal(clicks.length, 0);
});

test('a forged or oversized cookie is no earlier token', async () => {
  const { w, clicks, signer } = setup();
  await get(w, signer.build('spring', 'abc123'), 'aff_token=v1.k1.9999999999.1.AAAAAAAAAAAAAAAAAAAAAA.spring.x...AAAAAAAAAAAAAAAAAAAAAA');
  await get(w, signer.build('spring', 'abc123'), `junk=${'x'.repeat(9000)}`);
  assert.deepEqual(clicks.map((c) => [c.unique, c.keptEarlier]), [[true, false], [true, false]]);
});

test('the platform entry point reads its configuration from env', async () => {
  const keys = Keyring.generate();
  const env = {
    AFFILIATE_KEYS: JSON.stringify(keys.exportKeys()),
    AFFILIATE_CURRENT_KID: 'k1',
    AFFILIATE_CAMPAIGNS: JSON.stringify([{ code: 'haircare', destination: 'https://shop.example/', currency: 'USD' }]),
    AFFILIATE_PARTNERS: JSON.stringify([{ code: 'abc123' }]),
    AFFILIATE_COOKIE_DOMAIN: '.shop.example',
  };
  const url = new LinkSigner(keys, `${ORIGIN}/go`).build('haircare', 'abc123');
  const res = await worker.fetch(new Request(url, { headers: { 'user-agent': CHROME } }), env);
  assert.equal(res.status, 302);
  assert.match(res.headers.get('set-cookie'), /; Domain=shop\.example; Max-Age=2592000$/);
});

test('a campaign with a non-http destination is refused at start', () => {
  assert.throws(
    () => createWorker({ keys: Keyring.generate(), campaigns: [{ code: 'x', destination: 'javascript:alert(1)', currency: 'USD' }], partners: [] }),
    { code: 'malformed' },
  );
});

test('a validly signed link for a partner the merchant never created credits nobody', async () => {
  const { w, clicks, signer } = setup();
  const res = await get(w, signer.build('haircare', 'stranger'));
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), 'https://shop.example/hair?ref=aff#top');
  assert.equal(res.headers.get('set-cookie'), null);
  assert.equal(clicks.length, 0);
  // A partner whose parent is unknown is refused when the worker starts.
  assert.throws(
    () => createWorker({ keys: Keyring.generate(), campaigns: [], partners: [{ code: 'sub', parent: 'nobody' }] }),
    { code: 'unknown_partner' },
  );
});

test('HEAD answers as GET would, without a token, and reports no click', async () => {
  const { w, clicks, signer } = setup();
  const head = (url) => w.fetch(new Request(url, { method: 'HEAD', redirect: 'manual' }));
  const res = await head(signer.build('haircare', 'abc123'));
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), 'https://shop.example/hair?ref=aff#top');
  assert.equal(res.headers.get('set-cookie'), null);
  assert.equal((await head(signer.build('haircare', 'stranger'))).headers.get('location'), 'https://shop.example/hair?ref=aff#top');
  assert.equal((await head(signer.build('nope', 'abc123'))).status, 404);
  assert.equal(clicks.length, 0);
});
