// Every error code: real calls for the codes the package raises, affiliate-server's
// answers for the rest; every bad argument is a typed error that changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AffiliateError,
  ERROR_CODES,
  Keyring,
  LinkSigner,
  attributeToken,
  coreErrorCodes,
  decideClick,
  issueToken,
  newClickId,
  parseCookieHeader,
  setCookieHeader,
  tokenExpiry,
  verifyToken,
} from '../pkg/index.js';

const BASE = 'https://t.shop.example/go';
const T0 = 1_700_000_000;
const keys = Keyring.generate();
const signer = new LinkSigner(keys, BASE);
const token = issueToken(keys, {
  clickId: newClickId(T0 * 1000), campaign: 'haircare', partner: 'abc123', issuedAt: T0, expiresAt: T0 + 86_400,
});

const is = (code, message) => (e) => {
  assert.ok(e instanceof AffiliateError, `not an AffiliateError: ${e}`);
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'AffiliateError');
  assert.equal(e.code, code);
  if (message !== undefined) assert.equal(e.message, message);
  return true;
};

test('the codes are the HTTP API\'s', () => {
  assert.deepEqual([...ERROR_CODES].sort(), [
    'conflict', 'expired', 'forbidden', 'invalid_signature', 'invalid_transition', 'malformed',
    'managed_by_config', 'not_attributable', 'not_found', 'store_unavailable', 'unauthorized',
    'unknown_campaign', 'unknown_partner',
  ]);
  assert.ok(Object.isFrozen(ERROR_CODES));
  // The same list, in the same order, as the Rust core's (affiliate_sdk::ERROR_CODES).
  assert.deepEqual([...ERROR_CODES], coreErrorCodes());
});

test('invalid_signature, expired, not_attributable and malformed from real calls', () => {
  assert.throws(() => signer.verify(signer.build('haircare', 'abc123').replace('abc123', 'abc124')), is('invalid_signature', 'invalid signature'));
  assert.throws(() => verifyToken(keys, `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`, { now: T0 }), is('invalid_signature'));
  assert.throws(() => verifyToken(Keyring.generate('k9'), token, { now: T0 }), is('invalid_signature'));
  assert.throws(() => verifyToken(keys, token, { now: T0 + 2 * 86_400 }), is('expired', 'expired'));
  assert.throws(() => attributeToken(keys, token, { now: T0 + 5, minSecondsToConvert: 60 }), is('not_attributable'));
  assert.throws(() => signer.build('hair care', 'abc123'), is('malformed', 'malformed campaign code: only [A-Za-z0-9_-] allowed'));
});

test('every other code arrives from affiliate-server answers as a typed error', () => {
  for (const code of ERROR_CODES) {
    const e = AffiliateError.fromJSON({ error: { code, message: `a ${code} answer` } });
    assert.throws(() => { throw e; }, is(code, `a ${code} answer`));
  }
});

test('bad arguments are malformed errors naming the argument', () => {
  const cases = [
    [() => new Keyring('k1', 'k1'), 'keys'],
    [() => new Keyring({ k1: 'short' }, 'k1'), 'key'],
    [() => new Keyring({ k1: 42 }, 'k1'), 'key k1'],
    [() => new Keyring({ k1: keys.exportKeys().k1 }, 'k2'), 'current key id'],
    [() => Keyring.generate('bad kid!'), 'key id'],
    [() => new LinkSigner(keys, 'not a url'), 'base url'],
    [() => new LinkSigner(keys, 'ftp://h/go'), 'base url'],
    [() => new LinkSigner(keys, 'https://h/go?x=1'), 'base url'],
    [() => new LinkSigner(keys, 'https://u:p@h/go'), 'base url'],
    [() => new LinkSigner({}, BASE), 'keys'],
    [() => signer.build('haircare', 'abc123', { sid: 'a b' }), 'sid'],
    [() => signer.build('haircare', 'abc123', { ad: '' }), 'ad code'],
    [() => signer.build('haircare', 42), 'partner code'],
    [() => signer.build('haircare', 'abc123', 'website2'), 'options'],
    [() => signer.verify(`${BASE}/haircare/abc123?sig=k1.é`), 'link'],
    [() => signer.verify(`${BASE}/haircare/abc123?sig=${'A'.repeat(5000)}`), 'link'],
    [() => signer.verify(null), 'link'],
    [() => verifyToken(keys, 'v2.nope'), 'token'],
    [() => verifyToken(keys, 'x'.repeat(600)), 'token'],
    [() => verifyToken(keys, token, { now: -1 }), 'now'],
    [() => verifyToken(keys, token, { now: 1.5 }), 'now'],
    [() => verifyToken(keys, token, { now: '1700000000' }), 'now'],
    [() => verifyToken(keys, token, { skewSecs: Number.NaN }), 'skewSecs'],
    [() => verifyToken(keys, token, 'now'), 'options'],
    [() => verifyToken('keys', token), 'keys'],
    [() => issueToken(keys, null), 'token claims'],
    [() => issueToken(keys, { clickId: 'nope', campaign: 'c', partner: 'p', issuedAt: 1, expiresAt: 2 }), 'click id'],
    [() => issueToken(keys, { clickId: newClickId(), campaign: 'c', partner: 'p', issuedAt: 2, expiresAt: 1 }), 'token claims'],
    [() => issueToken(keys, { clickId: newClickId(), campaign: 'c', partner: 'p', issuedAt: 2 ** 60, expiresAt: 1 }), 'issuedAt'],
    [() => attributeToken(keys, token, { minSecondsToConvert: -5 }), 'minSecondsToConvert'],
    [() => decideClick(keys, { campaign: 'haircare' }, null), 'partner code'],
    [() => decideClick(keys, { campaign: 'haircare', partner: 'p' }, null, { attribution: 'middle' }), 'attribution'],
    [() => newClickId(-1), 'nowMs'],
    [() => tokenExpiry('v1.k1.x'), 'token'],
    [() => parseCookieHeader(`a=${'b'.repeat(9000)}`), 'cookie header'],
    [() => parseCookieHeader(7), 'cookie header'],
    [() => setCookieHeader('not a token', 60), 'token'],
    [() => setCookieHeader(token, -1), 'maxAge'],
    [() => setCookieHeader(token, 60, { domain: 'a b' }), 'cookie domain'],
    [() => setCookieHeader(token, 60, { secure: 'yes' }), 'secure'],
  ];
  for (const [call, field] of cases) {
    assert.throws(call, (e) => {
      is('malformed')(e);
      assert.ok(e.message.startsWith(`malformed ${field}`) || e.message.includes(field), `${e.message} (expected ${field})`);
      return true;
    });
  }
});

test('messages never carry keys or whole tokens', () => {
  const secret = keys.exportKeys().k1;
  const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
  for (const call of [() => verifyToken(keys, forged, { now: T0 }), () => new Keyring({ k1: secret.slice(0, 20) }, 'k1')]) {
    assert.throws(call, (e) => !e.message.includes(forged) && !e.message.includes(secret.slice(0, 20)) && !e.message.includes(forged.slice(-22)));
  }
});

test('random input never breaks the module: only AffiliateErrors, and it keeps working', () => {
  let seed = 42;
  const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  const alphabet = 'v1.k1abc-_~%+&=?/#\\ \u00e9\u2028\u0000ABCxyz0123456789';
  const junk = () => Array.from({ length: rand(200) }, () => alphabet[rand(alphabet.length)]).join('');
  const calls = [
    (s) => signer.verify(s), (s) => signer.verifyClick(`${BASE}/${s}`), (s) => verifyToken(keys, s, { now: T0 }),
    (s) => verifyToken(keys, token.slice(0, rand(token.length)) + s, { now: T0 }),
    (s) => attributeToken(keys, s, { now: T0 }), (s) => tokenExpiry(s), (s) => parseCookieHeader(s),
    (s) => setCookieHeader(s, 1), (s) => decideClick(keys, { campaign: 'c', partner: 'p' }, s, { now: T0 }),
    (s) => new LinkSigner(keys, s),
  ];
  for (let i = 0; i < 5000; i++) {
    const s = junk();
    try {
      calls[i % calls.length](s);
    } catch (e) {
      assert.ok(e instanceof AffiliateError, `${e} for ${JSON.stringify(s)}`);
    }
  }
  assert.equal(verifyToken(keys, token, { now: T0 }).partner, 'abc123');
  assert.equal(signer.verify(signer.build('haircare', 'abc123')).campaign, 'haircare');
});
