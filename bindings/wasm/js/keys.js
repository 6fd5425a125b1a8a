// Keys, links, session tokens, order signatures and cookies.

import {
  errorCodes as wasmErrorCodes,
  Keyring as WasmKeyring,
  LinkSigner as WasmLinkSigner,
  newClickId as wasmNewClickId,
  parseCookieHeader as wasmParseCookieHeader,
  setCookieHeader as wasmSetCookieHeader,
  tokenExpiry as wasmTokenExpiry,
} from './affiliate_sdk_wasm.js';
import { AffiliateError, fail, malformed, nowSecs, num, optStr, opts, skew, str } from './errors.js';
import { load, put, readClaims, readLink } from './module.js';

/** Signing keys: the current one signs, every one verifies. */
export class Keyring {
  #inner;

  /** @param keys `{kid: base64url key}`, each key at least 32 bytes. */
  constructor(keys, current) {
    load();
    if (keys instanceof WasmKeyring) {
      this.#inner = keys;
      return;
    }
    if (keys === null || typeof keys !== 'object' || Array.isArray(keys)) {
      throw malformed('keys', 'must be an object {kid: base64url key}');
    }
    const pairs = [];
    for (const [kid, key] of Object.entries(keys)) pairs.push(kid, str(`key ${kid}`, key));
    try {
      this.#inner = new WasmKeyring(pairs, str('current', current));
    } catch (e) {
      throw fail(e);
    }
  }

  /** A ring with one fresh random key under `kid` (default "k1"). */
  static generate(kid = 'k1') {
    load();
    try {
      return new Keyring(WasmKeyring.generate(str('kid', kid)));
    } catch (e) {
      throw fail(e);
    }
  }

  /** The signing key's id. */
  get current() {
    return this.#inner.current;
  }

  /** Every key id. */
  get kids() {
    return this.#inner.kids;
  }

  /** `{kid: base64url key}`, to store a generated ring. These are secrets. */
  exportKeys() {
    const flat = this.#inner.exportKeys();
    const out = {};
    for (let i = 0; i < flat.length; i += 2) out[flat[i]] = flat[i + 1];
    return out;
  }

  toJSON() {
    return { current: this.current, kids: this.kids };
  }

  /** @internal */
  static inner(keys) {
    if (!(keys instanceof Keyring)) throw malformed('keys', 'must be a Keyring');
    return keys.#inner;
  }
}

/** Builds and verifies signed tracking links under a base URL. */
export class LinkSigner {
  #inner;
  #base;

  constructor(keys, baseUrl) {
    let url;
    try {
      url = new URL(str('base url', baseUrl));
    } catch (e) {
      if (e instanceof AffiliateError) throw e;
      throw malformed('base url', 'not an absolute URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw malformed('base url', 'scheme must be http or https');
    }
    if (baseUrl.includes('?') || baseUrl.includes('#')) {
      throw malformed('base url', 'must not have a query or fragment');
    }
    if (url.username !== '' || url.password !== '') throw malformed('base url', 'must not carry credentials');
    try {
      this.#inner = new WasmLinkSigner(Keyring.inner(keys), url.href);
    } catch (e) {
      throw fail(e);
    }
    this.#base = this.#inner.baseUrl;
  }

  /** The base URL, normalised, without a trailing slash. */
  get baseUrl() {
    return this.#base;
  }

  /** The signed link `{base}/{campaign}/{partner}[/{ad}]?sig=…[&sid=…]`. */
  build(campaign, partner, options) {
    const o = opts('options', options);
    try {
      return this.#inner.build(str('campaign code', campaign), str('partner code', partner), optStr('ad code', o.ad), optStr('sid', o.sid));
    } catch (e) {
      throw fail(e);
    }
  }

  /** Verifies a link strictly (a bad `sid` is an error): `{campaign, partner, ad, sid}`. */
  verify(url) {
    const n = put(str('link', url));
    try {
      this.#inner.verifyIo(n, false);
    } catch (e) {
      throw fail(e);
    }
    return readLink(false);
  }

  /** Verifies a link as a click does: a bad `sid` is dropped (`droppedSid: true`). */
  verifyClick(url) {
    const n = put(str('link', url));
    try {
      this.#inner.verifyIo(n, true);
    } catch (e) {
      throw fail(e);
    }
    return readLink(true);
  }

  /** @internal */
  static inner(signer) {
    if (!(signer instanceof LinkSigner)) throw malformed('signer', 'must be a LinkSigner');
    return signer.#inner;
  }
}

/** Every error code of the SDK as the Rust core lists them (equal to ERROR_CODES). */
export function coreErrorCodes() {
  load();
  return wasmErrorCodes();
}

/** A new 128-bit time-ordered click id (UUIDv7 text) at `nowMs` (default: now). */
export function newClickId(nowMs) {
  load();
  try {
    return wasmNewClickId(nowMs === undefined ? Date.now() : num('nowMs', nowMs));
  } catch (e) {
    throw fail(e);
  }
}

/** Signs a session token for `claims` with the keyring's current key. */
export function issueToken(keys, c) {
  const k = Keyring.inner(keys);
  if (c === null || typeof c !== 'object') throw malformed('token claims', 'must be an object');
  try {
    return k.issueToken(
      str('click id', c.clickId),
      str('campaign code', c.campaign),
      str('partner code', c.partner),
      optStr('ad code', c.ad),
      optStr('sid', c.sid),
      num('issuedAt', c.issuedAt),
      num('expiresAt', c.expiresAt),
    );
  } catch (e) {
    throw fail(e);
  }
}

/**
 * The merchant's order signature (`osig`) with the keyring's current key, over the
 * order id, the amount (a decimal string, signed in its canonical form: "49.9" and
 * "49.90" sign alike), the currency and the kind (default "sale"). A confirmation page
 * passes it to the snippet as `signature`.
 */
export function signOrder(keys, order) {
  const k = Keyring.inner(keys);
  if (order === null || typeof order !== 'object') throw malformed('order', 'must be an object');
  try {
    return k.signOrder(
      str('orderId', order.orderId),
      str('amount', order.amount),
      str('currency', order.currency),
      order.kind === undefined ? 'sale' : str('kind', order.kind),
    );
  } catch (e) {
    throw fail(e);
  }
}

/** Verifies a session token at `now` (Unix seconds, default now) with `skewSecs` (60). */
export function verifyToken(keys, token, options) {
  const k = Keyring.inner(keys);
  const o = opts('options', options);
  const n = put(str('token', token));
  try {
    k.verifyTokenIo(n, nowSecs(o), skew(o));
  } catch (e) {
    throw fail(e);
  }
  return readClaims();
}

/**
 * The attribution decision for a token at a conversion: it verifies, its window holds
 * and its click is at least `minSecondsToConvert` old. The claims it credits, with
 * `evidence: "token"`; otherwise `invalid_signature`, `expired`, `not_attributable`.
 */
export function attributeToken(keys, token, options) {
  const k = Keyring.inner(keys);
  const o = opts('options', options);
  const min = o.minSecondsToConvert === undefined ? 0 : num('minSecondsToConvert', o.minSecondsToConvert);
  const n = put(str('token', token));
  try {
    k.attributeTokenIo(n, nowSecs(o), skew(o), min);
  } catch (e) {
    throw fail(e);
  }
  const c = readClaims();
  c.evidence = 'token';
  return c;
}

/**
 * The decision at a click on `link` (`{campaign, partner}`) for a visitor who carries
 * `priorToken` (or none): whether the click is unique, and whether a first-click
 * campaign keeps the earlier token. An invalid or expired prior token counts as none.
 */
export function decideClick(keys, clicked, priorToken, options) {
  const k = Keyring.inner(keys);
  const o = opts('options', options);
  if (clicked === null || typeof clicked !== 'object') throw malformed('link', 'must be an object {campaign, partner}');
  const attribution = o.attribution === undefined ? 'last' : str('attribution', o.attribution);
  const prior = priorToken === undefined || priorToken === null ? '' : str('prior token', priorToken);
  try {
    const d = k.decidePrior(str('campaign code', clicked.campaign), str('partner code', clicked.partner), prior, attribution, nowSecs(o), skew(o));
    return { unique: d[0] === '1', keepEarlier: d[2] === '1' };
  } catch (e) {
    throw fail(e);
  }
}

/** A token's expiry (Unix seconds), read without the key: to size a cookie. */
export function tokenExpiry(token) {
  load();
  try {
    return wasmTokenExpiry(str('token', token));
  } catch (e) {
    throw fail(e);
  }
}

/** The cookie `name` (default "aff_token") in a `Cookie` request header, or null. */
export function parseCookieHeader(header, name = 'aff_token') {
  load();
  try {
    return wasmParseCookieHeader(str('cookie header', header), str('cookie name', name)) ?? null;
  } catch (e) {
    throw fail(e);
  }
}

/**
 * The `Set-Cookie` value carrying `token` for `maxAge` seconds: `Path=/; HttpOnly;
 * SameSite=Lax`, plus `Secure` and `Domain` when asked.
 */
export function setCookieHeader(token, maxAge, options) {
  const o = opts('options', options);
  const secure = o.secure === undefined ? false : o.secure;
  if (typeof secure !== 'boolean') throw malformed('secure', 'must be a boolean');
  load();
  try {
    return wasmSetCookieHeader(
      str('token', token),
      num('maxAge', maxAge),
      o.name === undefined ? 'aff_token' : str('cookie name', o.name),
      o.domain === undefined || o.domain === null ? '' : str('cookie domain', o.domain),
      secure,
    );
  } catch (e) {
    throw fail(e);
  }
}

