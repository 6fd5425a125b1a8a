// The core's known-answer vectors, through the package: identical strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  AffiliateError,
  Keyring,
  LinkSigner,
  issueToken,
  parseCookieHeader,
  setCookieHeader,
  signOrder,
  verifyToken,
} from '../pkg/index.js';

const v = JSON.parse(readFileSync(new URL('../../../affiliate-sdk/tests/vectors/signing.json', import.meta.url)));
const ring = (current) => new Keyring(v.keys, current);
const optional = (x) => (x === null ? undefined : x);

test('links are built exactly and verify to their fields', () => {
  assert.ok(v.links.length > 0);
  for (const c of v.links) {
    const signer = new LinkSigner(ring(c.kid), v.base_url);
    const url = signer.build(c.campaign, c.partner, { ad: optional(c.ad), sid: optional(c.sid) });
    assert.equal(url, c.url);
    assert.deepEqual(signer.verify(url), { campaign: c.campaign, partner: c.partner, ad: c.ad, sid: c.sid });
  }
});

test('link checks accept and refuse with the same codes', () => {
  const signer = new LinkSigner(ring(v.current), v.base_url);
  for (const c of v.link_checks) {
    if (c.error === null) {
      assert.equal(signer.verify(c.url).sid, c.sid, c.name);
    } else {
      assert.throws(() => signer.verify(c.url), (e) => e instanceof AffiliateError && e.code === c.error, c.name);
    }
  }
});

test('tokens are issued exactly and verify to their claims', () => {
  assert.ok(v.tokens.length > 0);
  for (const c of v.tokens) {
    const keys = ring(c.kid);
    const claims = {
      clickId: c.click_id,
      campaign: c.campaign,
      partner: c.partner,
      ad: optional(c.ad),
      sid: optional(c.sid),
      issuedAt: c.issued_at,
      expiresAt: c.expires_at,
    };
    const token = issueToken(keys, claims);
    assert.equal(token, c.token);
    assert.deepEqual(verifyToken(keys, token, { now: c.issued_at }), { ...claims, ad: c.ad, sid: c.sid });
  }
});

test('token checks accept and refuse with the same codes', () => {
  const keys = ring(v.current);
  for (const c of v.token_checks) {
    if (c.error === null) {
      verifyToken(keys, c.token, { now: c.now, skewSecs: v.skew_secs });
    } else {
      assert.throws(() => verifyToken(keys, c.token, { now: c.now }), (e) => e.code === c.error, c.name);
    }
  }
});

test('cookies are written and found exactly', () => {
  for (const c of v.cookies.set_cookie) {
    assert.equal(setCookieHeader(c.token, c.max_age, { domain: c.domain, secure: c.secure }), c.header);
  }
  for (const c of v.cookies.find) {
    if (c.error) {
      assert.throws(() => parseCookieHeader(c.header), (e) => e.code === c.error);
    } else {
      assert.equal(parseCookieHeader(c.header), c.found);
    }
  }
});

test('order signatures are made exactly', () => {
  assert.ok(v.orders.length > 0);
  for (const c of v.orders) {
    const osig = signOrder(ring(c.kid), { orderId: c.order_id, amount: c.amount, currency: c.currency, kind: c.kind });
    assert.equal(osig, c.osig, JSON.stringify(c));
  }
  const first = v.orders[0];
  assert.equal(signOrder(ring(first.kid), { orderId: first.order_id, amount: first.amount, currency: first.currency }), first.osig, 'kind defaults to sale');
});

test('order signing refuses bad input with typed errors', () => {
  const keys = ring(v.current);
  for (const order of [
    { orderId: 'A 1', amount: '1.00', currency: 'USD' },
    { orderId: 'A-1', amount: '1.001', currency: 'USD' },
    { orderId: 'A-1', amount: 1.5, currency: 'USD' },
    { orderId: 'A-1', amount: '1', currency: 'QQQ' },
    null,
  ]) {
    assert.throws(() => signOrder(keys, order), (e) => e instanceof AffiliateError && e.code === 'malformed', JSON.stringify(order));
  }
});

