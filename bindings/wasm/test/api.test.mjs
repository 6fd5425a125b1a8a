// Every export of the package, as an edge worker or a Node app uses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as sdk from '../pkg/index.js';
import {
  AffiliateError,
  Catalogue,
  Keyring,
  LinkSigner,
  attributeToken,
  decideClick,
  issueToken,
  newClickId,
  parseCookieHeader,
  planClick,
  previewClick,
  setCookieHeader,
  tokenExpiry,
  verifyToken,
} from '../pkg/index.js';

const BASE = 'https://t.shop.example/go';
const T0 = 1_700_000_000;
const DAY = 86_400;
const KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8';

const claims = (extra = {}) => ({
  clickId: newClickId(T0 * 1000),
  campaign: 'haircare',
  partner: 'abc123',
  ad: 'website2',
  sid: 'kw1',
  issuedAt: T0,
  expiresAt: T0 + 28 * DAY,
  ...extra,
});

test('the package exports exactly its documented API', () => {
  assert.deepEqual(Object.keys(sdk).sort(), [
    'AffiliateError', 'Catalogue', 'ERROR_CODES', 'Keyring', 'LinkSigner', 'attributeToken',
    'coreErrorCodes', 'decideClick', 'initialize', 'initializeSync', 'issueToken', 'landing', 'newClickId',
    'parseCookieHeader', 'planClick', 'previewClick', 'setCookieHeader', 'signOrder',
    'tokenExpiry', 'verifyToken', 'withLanding',
  ]);
});

test('Keyring: generate, export, reload; keys never serialised', () => {
  const keys = Keyring.generate('main');
  assert.equal(keys.current, 'main');
  assert.deepEqual(keys.kids, ['main']);
  const exported = keys.exportKeys();
  assert.deepEqual(Object.keys(exported), ['main']);
  assert.ok(exported.main.length >= 43);
  const again = new Keyring(exported, 'main');
  const url = new LinkSigner(keys, BASE).build('haircare', 'abc123');
  assert.equal(new LinkSigner(again, BASE).verify(url).partner, 'abc123');
  assert.notDeepEqual(Keyring.generate().exportKeys(), Keyring.generate().exportKeys());
  assert.deepEqual(JSON.parse(JSON.stringify(keys)), { current: 'main', kids: ['main'] });
  assert.ok(!JSON.stringify(keys).includes(exported.main));
});

test('Keyring rotation: old links verify until their key is removed', () => {
  const k1 = Keyring.generate().exportKeys().k1;
  const k2 = Keyring.generate().exportKeys().k1;
  const old = new LinkSigner(new Keyring({ k1 }, 'k1'), BASE).build('haircare', 'abc123');
  const both = new LinkSigner(new Keyring({ k1, k2 }, 'k2'), BASE);
  const fresh = both.build('haircare', 'abc123');
  assert.match(fresh, /sig=k2\./);
  assert.equal(both.verify(old).partner, 'abc123');
  const onlyK2 = new LinkSigner(new Keyring({ k2 }, 'k2'), BASE);
  assert.equal(onlyK2.verify(fresh).partner, 'abc123');
  assert.throws(() => onlyK2.verify(old), { code: 'invalid_signature', message: 'invalid signature' });
});

test('LinkSigner: build, verify with appended parameters, the base URL normalised', () => {
  const signer = new LinkSigner(new Keyring({ k1: KEY }, 'k1'), 'HTTPS://T.Shop.Example/go/');
  assert.equal(signer.baseUrl, BASE);
  const url = signer.build('haircare', 'abc123', { ad: 'website2' });
  assert.equal(url, 'https://t.shop.example/go/haircare/abc123/website2?sig=k1.JK4wA1m8DHO9eD5PQqxqRw');
  assert.deepEqual(signer.verify(`${url}&sid=kw_1&utm_source=mail`), {
    campaign: 'haircare', partner: 'abc123', ad: 'website2', sid: 'kw_1',
  });
  assert.deepEqual(signer.verify(url.replace('https://t.shop.example', '')), {
    campaign: 'haircare', partner: 'abc123', ad: 'website2', sid: null,
  });
  // An international host is punycoded by the engine's URL, as the url crate does.
  assert.equal(new LinkSigner(Keyring.generate(), 'https://bücher.example/go').baseUrl, 'https://xn--bcher-kva.example/go');
  assert.equal(new LinkSigner(Keyring.generate(), 'http://127.0.0.1:8080').baseUrl, 'http://127.0.0.1:8080');
});

test('LinkSigner.verifyClick drops a bad sid; verify refuses it', () => {
  const signer = new LinkSigner(Keyring.generate(), BASE);
  const url = signer.build('haircare', 'abc123');
  assert.deepEqual(signer.verifyClick(`${url}&sid=%3Cscript%3E`), {
    campaign: 'haircare', partner: 'abc123', ad: null, sid: null, droppedSid: true,
  });
  assert.deepEqual(signer.verifyClick(`${url}&sid=ok.1`), {
    campaign: 'haircare', partner: 'abc123', ad: null, sid: 'ok.1', droppedSid: false,
  });
  assert.throws(() => signer.verify(`${url}&sid=%3Cscript%3E`), { code: 'malformed' });
});

test('every signed character matters', () => {
  const signer = new LinkSigner(Keyring.generate(), BASE);
  const url = signer.build('haircare', 'abc123', { ad: 'w2' });
  let refused = 0;
  for (let i = BASE.length + 1; i < url.length; i++) {
    if ('?=.&/'.includes(url[i])) continue;
    const changed = url.slice(0, i) + (url[i] === 'A' ? 'B' : 'A') + url.slice(i + 1);
    assert.throws(() => signer.verify(changed), (e) => e instanceof AffiliateError && ['invalid_signature', 'malformed'].includes(e.code));
    refused++;
  }
  assert.ok(refused > 30);
});

test('newClickId: UUIDv7 text, time-ordered, never repeating', () => {
  const ids = Array.from({ length: 2000 }, () => newClickId(T0 * 1000));
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual([...ids].sort(), ids);
  assert.match(ids[0], /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(newClickId() > ids[ids.length - 1]);
});

test('issueToken / verifyToken round trip; expiry readable without the key', () => {
  const keys = Keyring.generate();
  const c = claims();
  const token = issueToken(keys, c);
  assert.match(token, /^v1\.k1\.1702419200\.1700000000\./);
  assert.ok(token.length <= 160);
  assert.deepEqual(verifyToken(keys, token, { now: T0 + 10 }), c);
  assert.equal(tokenExpiry(token), T0 + 28 * DAY);
  const bare = issueToken(keys, claims({ ad: undefined, sid: null }));
  assert.deepEqual(verifyToken(keys, bare, { now: T0 }), { ...c, clickId: verifyToken(keys, bare, { now: T0 }).clickId, ad: null, sid: null });
  // Now by default: a token issued now verifies now.
  const now = Math.floor(Date.now() / 1000);
  assert.equal(verifyToken(keys, issueToken(keys, claims({ issuedAt: now, expiresAt: now + 60 }))).partner, 'abc123');
});

test('tokens expire, with the skew allowed on both ends', () => {
  const keys = Keyring.generate();
  const token = issueToken(keys, claims());
  const exp = T0 + 28 * DAY;
  assert.equal(verifyToken(keys, token, { now: exp + 59 }).partner, 'abc123');
  assert.throws(() => verifyToken(keys, token, { now: exp + 60 }), { code: 'expired', message: 'expired' });
  assert.throws(() => verifyToken(keys, token, { now: T0 - 61 }), { code: 'expired' });
  assert.equal(verifyToken(keys, token, { now: T0 - 61, skewSecs: 61 }).partner, 'abc123');
});

test('attributeToken: the decision at a conversion', () => {
  const keys = Keyring.generate();
  const token = issueToken(keys, claims());
  const credited = attributeToken(keys, token, { now: T0 + 3600, minSecondsToConvert: 30 });
  assert.deepEqual(credited, { ...verifyToken(keys, token, { now: T0 }), evidence: 'token' });
  assert.throws(() => attributeToken(keys, token, { now: T0 + 10, minSecondsToConvert: 30 }), {
    code: 'not_attributable',
    message: 'not attributable: converted 10 s after the click; the campaign requires 30 s',
  });
  assert.throws(() => attributeToken(keys, token, { now: T0 + 29 * DAY }), { code: 'expired' });
  assert.throws(() => attributeToken(Keyring.generate(), token, { now: T0 }), { code: 'invalid_signature' });
});

test('decideClick: unique clicks and first-click campaigns', () => {
  const keys = Keyring.generate();
  const prior = issueToken(keys, claims());
  const same = { campaign: 'haircare', partner: 'abc123' };
  assert.deepEqual(decideClick(keys, same, null, { now: T0 }), { unique: true, keepEarlier: false });
  assert.deepEqual(decideClick(keys, same, prior, { now: T0 + 60 }), { unique: false, keepEarlier: false });
  assert.deepEqual(decideClick(keys, same, prior, { now: T0 + DAY }), { unique: true, keepEarlier: false });
  assert.deepEqual(decideClick(keys, same, prior, { now: T0 + 60, attribution: 'first' }), { unique: false, keepEarlier: true });
  const other = { campaign: 'haircare', partner: 'mid1' };
  assert.deepEqual(decideClick(keys, other, prior, { now: T0 + 60, attribution: 'first' }), { unique: true, keepEarlier: true });
  const otherCampaign = { campaign: 'spring', partner: 'abc123' };
  assert.deepEqual(decideClick(keys, otherCampaign, prior, { now: T0 + 60, attribution: 'first' }), { unique: true, keepEarlier: false });
  // A forged or expired prior token counts as none. (The forgery changes the tag's
  // last two characters, whatever they were: a fixed "AA" was the token itself once
  // in 4,096 runs.)
  const forged = prior.slice(0, -2) + (prior.endsWith('AA') ? 'QQ' : 'AA');
  assert.deepEqual(decideClick(keys, same, forged, { now: T0 + 60, attribution: 'first' }), { unique: true, keepEarlier: false });
  assert.deepEqual(decideClick(keys, same, prior, { now: T0 + 30 * DAY, attribution: 'first' }), { unique: true, keepEarlier: false });
});

test('cookies: Set-Cookie values and the Cookie header parser', () => {
  const token = issueToken(Keyring.generate(), claims());
  assert.equal(setCookieHeader(token, 3600), `aff_token=${token}; HttpOnly; SameSite=Lax; Path=/; Max-Age=3600`);
  assert.equal(
    setCookieHeader(token, 60, { name: 'ref', domain: '.shop.example', secure: true }),
    `ref=${token}; HttpOnly; SameSite=Lax; Secure; Path=/; Domain=shop.example; Max-Age=60`,
  );
  assert.equal(parseCookieHeader(`theme=dark; =junk; aff_token=${token}; cart=3`), token);
  assert.equal(parseCookieHeader(`theme=dark; ref=${token}`, 'ref'), token);
  assert.equal(parseCookieHeader('theme=dark'), null);
  assert.equal(parseCookieHeader(''), null);
});

test('AffiliateError.fromJSON turns an affiliate-server error body into a typed error', () => {
  const e = AffiliateError.fromJSON({ error: { code: 'conflict', message: 'conflict: order "A-1" was recorded with other values' } });
  assert.ok(e instanceof AffiliateError && e instanceof Error);
  assert.equal(e.code, 'conflict');
  assert.equal(AffiliateError.fromJSON({ nope: 1 }).code, 'malformed');
  assert.equal(AffiliateError.fromJSON({ error: { code: 'made_up' } }).code, 'malformed');
});

test('planClick: the core\'s click plan over a catalogue', () => {
  const keys = Keyring.generate();
  const signer = new LinkSigner(keys, BASE);
  const catalogue = new Catalogue();
  assert.equal(catalogue.addCampaign({
    code: 'haircare', destination: 'https://Shop.example/hair?aff_token=old&x=1#top', currency: 'USD',
    cookie_days: 28, click_flat: '0.05', attribution: 'first',
  }), 'haircare');
  catalogue.addPartner({ code: 'boss1' });
  catalogue.addPartner({ code: 'abc123', parent: 'boss1', coupons: ['ABC10'] });

  const url = `${signer.build('haircare', 'abc123', { ad: 'website2' })}&sid=kw1`;
  const p = planClick(catalogue, signer, url, { nowMs: T0 * 1000, secure: true, cookieDomain: '.shop.example' });
  assert.equal(p.credited, true);
  assert.deepEqual({ ...p.click, clickId: undefined }, {
    clickId: undefined, campaign: 'haircare', partner: 'abc123', ad: 'website2', sid: 'kw1',
    unique: true, at: T0, currency: 'USD', commission: '0.05',
  });
  // The destination as the URL standard serialises it, the stale parameter replaced.
  assert.equal(p.location, `https://shop.example/hair?x=1&aff_token=${p.token}#top`);
  assert.equal(p.setCookie, `aff_token=${p.token}; HttpOnly; SameSite=Lax; Secure; Path=/; Domain=shop.example; Max-Age=${28 * DAY}`);
  const claims = verifyToken(keys, p.token, { now: T0 });
  assert.equal(claims.clickId, p.click.clickId);
  assert.equal(claims.expiresAt - claims.issuedAt, 28 * DAY);
  // First click: the earlier token stays, the click is counted but not unique.
  const again = planClick(catalogue, signer, signer.build('haircare', 'boss1'), { nowMs: (T0 + 60) * 1000, priorToken: p.token });
  assert.deepEqual([again.token, again.keptEarlier, again.click.unique, again.click.partner], [p.token, true, true, 'boss1']);

  // Credits nobody: an unknown partner, an altered link (both land), an unknown campaign (404).
  const refused = (u) => planClick(catalogue, signer, u, { nowMs: T0 * 1000 });
  const stranger = refused(signer.build('haircare', 'stranger'));
  assert.equal(stranger.credited, false);
  assert.equal(stranger.error.code, 'unknown_partner');
  assert.equal(stranger.fallback, 'https://shop.example/hair?aff_token=old&x=1#top');
  assert.equal(refused(url.replace('abc123', 'boss1')).error.code, 'invalid_signature');
  assert.equal(refused(url.replace('abc123', 'boss1')).fallback, stranger.fallback);
  const nosuch = refused(signer.build('nosuch', 'abc123'));
  assert.deepEqual([nosuch.error.code, nosuch.fallback], ['unknown_campaign', null]);

  // previewClick decides the same and issues nothing.
  assert.deepEqual(previewClick(catalogue, signer, url), { credited: true, location: stranger.fallback });
  assert.equal(previewClick(catalogue, signer, signer.build('nosuch', 'abc123')).error.code, 'unknown_campaign');
});

test('Catalogue refuses bad specs with typed errors and keeps what it had', () => {
  const c = new Catalogue();
  const is = (code, field) => (e) => e instanceof AffiliateError && e.code === code && e.message.includes(field);
  assert.throws(() => c.addCampaign({ code: 'x', destination: 'javascript:alert(1)', currency: 'USD' }), is('malformed', 'destination'));
  assert.throws(() => c.addCampaign({ code: 'x', destination: 'https://u:p@shop.example/', currency: 'USD' }), is('malformed', 'credentials'));
  assert.throws(() => c.addCampaign({ code: 'x', destination: 'not a url', currency: 'USD' }), is('malformed', 'destination'));
  assert.throws(() => c.addCampaign({ code: 'x', destination: 'https://shop.example/', currency: 'XXZ' }), is('malformed', 'currency'));
  assert.throws(() => c.addCampaign({ code: 'x', destination: 'https://shop.example/', currency: 'USD', cookieDays: 3 }), is('malformed', 'cookieDays'));
  assert.throws(() => c.addCampaign({ code: 'x', destination: 'https://shop.example/', currency: 'USD', cookie_days: 0 }), is('malformed', 'cookie_days'));
  assert.throws(() => c.addCampaign({ code: 'x', destination: 'https://shop.example/', currency: 'USD', attribution: 'middle' }), is('malformed', 'attribution'));
  assert.throws(() => c.addCampaign({ code: 'x', destination: 'https://shop.example/', currency: 'USD', sale_percent: 10 }), is('malformed', 'sale_percent'));
  assert.throws(() => c.addCampaign({ code: 'x', destination: 'https://shop.example/', currency: 'USD', sale_percent: '10', sale_flat: '1' }), is('malformed', 'sale_percent'));
  assert.throws(() => c.addPartner({ code: 'p', parent: 'ghost' }), is('unknown_partner', 'ghost'));
  assert.throws(() => c.addPartner({ code: 'p q' }), is('malformed', 'partner code'));
  assert.throws(() => new Catalogue({ param: '' }), is('malformed', 'landing parameter'));
  // Nothing was added: a link of campaign x is an unknown campaign.
  const keys = Keyring.generate();
  const signer = new LinkSigner(keys, BASE);
  assert.equal(planClick(c, signer, signer.build('x', 'p')).error.code, 'unknown_campaign');
});

test('planClick and previewClick: deep links land on the campaign\'s deep_link_hosts only', () => {
  const signer = new LinkSigner(Keyring.generate(), BASE);
  const catalogue = new Catalogue();
  catalogue.addCampaign({
    code: 'deep', destination: 'https://shop.example/home', currency: 'USD',
    deep_link_hosts: ['shop.example', '*.cdn.example'],
  });
  catalogue.addPartner({ code: 'abc123' });
  const link = signer.build('deep', 'abc123');
  const to = (target) => `${link}&to=${encodeURIComponent(target)}`;
  const p = planClick(catalogue, signer, to('https://Shop.Example/p/42?c=red'), { nowMs: T0 * 1000 });
  assert.equal(p.location, `https://shop.example/p/42?c=red&aff_token=${p.token}`);
  assert.equal(p.refusedTo, null);
  assert.equal(planClick(catalogue, signer, to('https://img.cdn.example/x'), { nowMs: T0 * 1000 }).refusedTo, null);
  for (const evil of ['https://evil.example/', 'https://shop.example@evil.example/', '//evil.example',
    'https:\\\\evil.example', '/\\evil.example', 'java\tscript:alert(1)', 'https://shop.example.evil.example/',
    'https://evil.example%2f.shop.example/', 'https://shоp.example/', 'https://cdn.example/']) {
    const r = planClick(catalogue, signer, to(evil), { nowMs: T0 * 1000 });
    assert.equal(r.location, `https://shop.example/home?aff_token=${r.token}`, evil);
    assert.equal(r.refusedTo.code, 'malformed', evil);
    assert.deepEqual(previewClick(catalogue, signer, to(evil)), { credited: true, location: 'https://shop.example/home' }, evil);
  }
  // A bot lands on the allowed page too, without a token.
  const bot = planClick(catalogue, signer, to('https://shop.example/p/1'), { nowMs: T0 * 1000, bot: true });
  assert.deepEqual([bot.bot, bot.location, bot.refusedTo], [true, 'https://shop.example/p/1', null]);
  assert.equal(previewClick(catalogue, signer, to('https://shop.example/p/1')).location, 'https://shop.example/p/1');
});
