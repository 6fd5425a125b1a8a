// The landing step for fetch handlers (`landing`, `withLanding`): a fresh token in the
// URL becomes a first-party HttpOnly cookie set by the shop's own 302 to the clean URL;
// a stale, forged or missing token changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AffiliateError, Keyring, issueToken, landing, newClickId, withLanding } from '../pkg/index.js';

const T0 = 1_700_000_000;
const keys = Keyring.generate();
const token = issueToken(keys, {
  clickId: newClickId(T0 * 1000), campaign: 'spring', partner: 'abc123',
  issuedAt: T0, expiresAt: T0 + 28 * 86400,
});

test('a fresh token: 302 to the clean URL with the first-party cookie', () => {
  const r = landing(keys, new Request(`https://shop.example/sale?color=red&aff_token=${token}&q=a%20b`), { now: T0 + 30 });
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), '/sale?color=red&q=a%20b');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const cookie = r.headers.get('set-cookie');
  assert.ok(cookie.startsWith(`aff_token=${token}; HttpOnly; SameSite=Lax; Secure;`), cookie);
  assert.ok(cookie.endsWith(`Max-Age=${28 * 86400 - 30}`), cookie);
  // http: no Secure; a Domain when asked; HEAD too.
  const plain = landing(keys, new Request(`http://shop.example/?aff_token=${token}`, { method: 'HEAD' }),
    { now: T0, domain: 'shop.example' });
  assert.equal(plain.headers.get('location'), '/');
  assert.ok(!plain.headers.get('set-cookie').includes('Secure'));
  assert.ok(plain.headers.get('set-cookie').includes('Domain=shop.example'));
});

test('a stale, forged, mangled or missing token, or a POST, changes nothing', () => {
  const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  for (const [url, method, now] of [
    [`https://shop.example/sale?aff_token=${token}`, 'GET', T0 + 11 * 60],
    [`https://shop.example/sale?aff_token=${forged}`, 'GET', T0],
    ['https://shop.example/sale?aff_token=v1.%FF', 'GET', T0],
    ['https://shop.example/sale?color=red', 'GET', T0],
    ['https://shop.example/sale', 'GET', T0],
    [`https://shop.example/sale?aff_token=${token}`, 'POST', T0],
  ]) {
    assert.equal(landing(keys, new Request(url, { method }), { now }), null, `${method} ${url}`);
  }
});

test('the location never leaves the site', () => {
  const r = landing(keys, new Request(`https://shop.example//evil.example/x?aff_token=${token}`), { now: T0 });
  assert.equal(r.headers.get('location'), '/evil.example/x');
});

test('withLanding answers landings and hands everything else to the handler', async () => {
  const seen = [];
  const handler = withLanding(keys, (request, env) => { seen.push([request.url, env]); return new Response('page'); }, { now: T0 });
  const hit = await handler(new Request(`https://shop.example/?aff_token=${token}`), 'env');
  assert.equal(hit.status, 302);
  const page = await handler(new Request('https://shop.example/?x=1'), 'env');
  assert.equal(await page.text(), 'page');
  assert.deepEqual(seen, [['https://shop.example/?x=1', 'env']]);
});

test('bad arguments are AffiliateErrors naming the argument', () => {
  const bad = [
    () => landing({}, new Request('https://shop.example/')),
    () => landing(keys, 'https://shop.example/'),
    () => landing(keys, new Request(`https://shop.example/?aff_token=${token}`), { now: -1 }),
    () => landing(keys, new Request(`https://shop.example/?aff_token=${token}`), { secure: 'yes' }),
    () => landing(keys, new Request(`https://shop.example/?aff_token=${token}`), { name: 'bad name' }),
    () => withLanding(keys, 'not a function'),
  ];
  for (const f of bad) {
    assert.throws(f, (e) => e instanceof AffiliateError && e.code === 'malformed', String(f));
  }
});
