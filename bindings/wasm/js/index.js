// affiliate-sdk for JavaScript: signed tracking links, session tokens and cookies, and
// the attribution decision for a token, in WebAssembly built from the Rust core.
// Runs in Node, Deno, Bun and edge workers. Types: index.d.ts.
//
// Every error is an AffiliateError with a `code` (the HTTP API's codes). Arguments are
// checked here before they reach the module; the module's own errors arrive as
// "<code>\u001f<message>" and are turned into AffiliateErrors in `fail` below.

import init, {
  Catalogue as WasmCatalogue,
  errorCodes as wasmErrorCodes,
  initSync,
  ioBuffer,
  Keyring as WasmKeyring,
  LinkSigner as WasmLinkSigner,
  newClickId as wasmNewClickId,
  parseCookieHeader as wasmParseCookieHeader,
  setCookieHeader as wasmSetCookieHeader,
  tokenExpiry as wasmTokenExpiry,
} from './affiliate_sdk_wasm.js';

const SEP = '\u001f';
/** The `.wasm` file next to this one (null where the host gives modules no URL). */
function wasmUrl() {
  try {
    return new URL('./affiliate_sdk_wasm_bg.wasm', import.meta.url);
  } catch {
    return null;
  }
}

// The I/O buffer in the module's memory (see src/lib.rs): token and link text is
// written at `io`, answers are read from `io + IO_OUT`.
const IO_OUT = 4608;
let memory = null;
let io = 0;
let u8 = null;
let dv = null;

function attach(exports) {
  memory = exports.memory;
  io = ioBuffer();
  u8 = null;
}

/** Views of the memory, renewed when it has grown (growing detaches the old ones). */
function views() {
  if (u8 === null || u8.buffer !== memory.buffer) {
    u8 = new Uint8Array(memory.buffer);
    dv = new DataView(memory.buffer);
  }
}

/**
 * Writes `s` into the buffer and returns its length. A non-ASCII character becomes a
 * byte that is not UTF-8, which the module refuses; text too long for the buffer is
 * reported as one byte too long.
 */
function put(s) {
  const n = s.length;
  if (n > IO_OUT) return IO_OUT + 1;
  views();
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    u8[io + i] = c < 128 ? c : 0x80;
  }
  return n;
}

/** Reads a length-prefixed ASCII string (null when empty) at `at`; returns [value, next]. */
function text(at) {
  const n = u8[at];
  return [n === 0 ? null : String.fromCharCode.apply(null, u8.subarray(at + 1, at + 1 + n)), at + 1 + n];
}

/** The claims answered by verifyTokenIo / attributeTokenIo. */
function readClaims() {
  views();
  let at = io + IO_OUT;
  const clickId = String.fromCharCode.apply(null, u8.subarray(at, at + 36));
  const issuedAt = dv.getFloat64(at + 36, true);
  const expiresAt = dv.getFloat64(at + 44, true);
  let campaign, partner, ad, sid;
  [campaign, at] = text(at + 52);
  [partner, at] = text(at);
  [ad, at] = text(at);
  [sid] = text(at);
  return { clickId, campaign, partner, ad, sid, issuedAt, expiresAt };
}

/** The link answered by verifyIo. */
function readLink(click) {
  views();
  let campaign, partner, ad, sid;
  let at = io + IO_OUT;
  [campaign, at] = text(at);
  [partner, at] = text(at);
  [ad, at] = text(at);
  [sid, at] = text(at);
  const l = { campaign, partner, ad, sid };
  if (click) l.droppedSid = u8[at] === 1;
  return l;
}

/** Every error code of the SDK and its HTTP API. */
export const ERROR_CODES = Object.freeze([
  'malformed',
  'invalid_signature',
  'expired',
  'unknown_campaign',
  'unknown_partner',
  'not_attributable',
  'conflict',
  'invalid_transition',
  'unauthorized',
  'not_found',
  'store_unavailable',
  'forbidden',
  'managed_by_config',
]);

export class AffiliateError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'AffiliateError';
    this.code = code;
  }

  /** The error of an affiliate-server JSON answer, `{"error": {"code", "message"}}`. */
  static fromJSON(body) {
    const e = body && typeof body === 'object' ? body.error : undefined;
    if (!e || typeof e.code !== 'string' || !ERROR_CODES.includes(e.code)) {
      return new AffiliateError('malformed', 'malformed error body: expected {"error": {"code", "message"}}');
    }
    return new AffiliateError(e.code, typeof e.message === 'string' ? e.message : e.code);
  }
}

function fail(e) {
  if (typeof e === 'string') {
    const i = e.indexOf(SEP);
    if (i > 0) return new AffiliateError(e.slice(0, i), e.slice(i + 1));
  }
  return e;
}

function malformed(field, reason) {
  return new AffiliateError('malformed', `malformed ${field}: ${reason}`);
}

function str(field, v) {
  if (typeof v !== 'string') throw malformed(field, `must be a string, not ${v === null ? 'null' : typeof v}`);
  return v;
}

/** An optional string argument: '' for the module when absent. */
function optStr(field, v) {
  if (v === undefined || v === null) return '';
  if (str(field, v) === '') throw malformed(field, 'must not be empty (leave it out instead)');
  return v;
}

function num(field, v) {
  if (typeof v !== 'number') throw malformed(field, `must be a number, not ${v === null ? 'null' : typeof v}`);
  return v;
}

function opts(field, v) {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object') throw malformed(field, 'must be an object');
  return v;
}

function nowSecs(o) {
  return o.now === undefined ? Math.floor(Date.now() / 1000) : num('now', o.now);
}

function skew(o) {
  return o.skewSecs === undefined ? 60 : num('skewSecs', o.skewSecs);
}

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

const CAMPAIGN_FIELDS = [
  'code', 'destination', 'currency', 'cookie_days', 'attribution', 'min_seconds_to_convert',
  'sale_percent', 'sale_flat', 'lead_flat', 'click_flat', 'impression_per_mille',
  'override_percents', 'recurring_months', 'deep_link_hosts',
];
const PARTNER_FIELDS = ['code', 'parent', 'coupons'];

/** An object with only `known` fields (a misspelt field is an error, not ignored). */
function fields(what, v, known) {
  const o = opts(what, v);
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw malformed(what, `unknown field ${JSON.stringify(k)}; expected ${known.join(', ')}`);
  }
  return o;
}

/** An optional array of strings. */
function strings(field, v) {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw malformed(field, 'must be an array of strings');
  return v.map((x) => str(field, x));
}

/**
 * The campaigns and partners a worker knows. Specs are the config file's fields:
 * campaigns `{code, destination, currency, cookie_days?, attribution?, click_flat?, …}`,
 * partners `{code, parent?, coupons?}`. A click credits only a known campaign and a
 * known partner.
 */
export class Catalogue {
  #inner;

  /** @param options `{param?}`: the landing parameter and cookie name (default "aff_token"). */
  constructor(options) {
    load();
    const o = opts('options', options);
    try {
      this.#inner = new WasmCatalogue(o.param === undefined ? 'aff_token' : str('param', o.param));
    } catch (e) {
      throw fail(e);
    }
  }

  /** Adds or replaces a campaign; returns its code. */
  addCampaign(spec) {
    const o = fields('campaign', spec, CAMPAIGN_FIELDS);
    // The engine's WHATWG URL parser normalises the destination; the core checks the
    // result (an absolute http(s) URL, no credentials).
    let destination;
    try {
      destination = new URL(str('destination', o.destination)).href;
    } catch (e) {
      if (e instanceof AffiliateError) throw e;
      throw malformed('destination', 'not an absolute URL');
    }
    const amount = (f) => (o[f] === undefined || o[f] === null ? '' : str(f, o[f]));
    try {
      return this.#inner.addCampaign(
        str('code', o.code),
        destination,
        str('currency', o.currency),
        o.cookie_days === undefined ? 30 : num('cookie_days', o.cookie_days),
        o.attribution === undefined ? 'last' : str('attribution', o.attribution),
        o.min_seconds_to_convert === undefined ? 0 : num('min_seconds_to_convert', o.min_seconds_to_convert),
        ['sale_percent', 'sale_flat', 'lead_flat', 'click_flat', 'impression_per_mille'].map(amount),
        strings('override_percents', o.override_percents),
        o.recurring_months === undefined ? 0 : num('recurring_months', o.recurring_months),
        strings('deep_link_hosts', o.deep_link_hosts),
      );
    } catch (e) {
      throw fail(e);
    }
  }

  /** Adds or replaces a partner (its parent first); returns its code. */
  addPartner(spec) {
    const o = fields('partner', spec, PARTNER_FIELDS);
    try {
      return this.#inner.addPartner(
        str('code', o.code),
        o.parent === undefined || o.parent === null ? '' : str('parent', o.parent),
        strings('coupons', o.coupons),
      );
    } catch (e) {
      throw fail(e);
    }
  }

  /** @internal */
  static inner(catalogue) {
    if (!(catalogue instanceof Catalogue)) throw malformed('catalogue', 'must be a Catalogue');
    return catalogue.#inner;
  }
}

/**
 * The whole click decision, as the server makes it (the core's click plan): verify
 * the link, weigh the visitor's earlier token, decide uniqueness, make the click id,
 * token, cookie and landing URL. Options: `{priorToken?, nowMs?, cookieDomain?,
 * secure?, skewSecs?}`. Returns `{credited: true, click: {clickId, campaign, partner,
 * ad, sid, unique, at, currency, commission}, token, setCookie, location, keptEarlier,
 * droppedSid, refusedTo}` for a click to record, or `{credited: false, error: AffiliateError,
 * fallback}` where `fallback` is the campaign's destination (null: answer 404). A
 * link's `to=` (a deep link) is read with this engine's URL parser: `location` is that
 * page when its host is one of the campaign's `deep_link_hosts`, else the destination,
 * and `refusedTo` says why.
 */
export function planClick(catalogue, signer, url, options) {
  const c = Catalogue.inner(catalogue);
  const s = LinkSigner.inner(signer);
  const o = opts('options', options);
  const link = str('link', url);
  const prior = o.priorToken === undefined || o.priorToken === null ? '' : str('prior token', o.priorToken);
  const secure = o.secure === undefined ? false : o.secure;
  if (typeof secure !== 'boolean') throw malformed('secure', 'must be a boolean');
  const bot = o.bot === undefined ? false : o.bot;
  if (typeof bot !== 'boolean') throw malformed('bot', 'must be a boolean');
  let answer;
  try {
    answer = c.planClick(
      s,
      link,
      prior,
      o.nowMs === undefined ? Date.now() : num('nowMs', o.nowMs),
      o.cookieDomain === undefined || o.cookieDomain === null ? '' : str('cookie domain', o.cookieDomain),
      secure,
      skew(o),
      bot,
      deepTarget(link),
    );
  } catch (e) {
    throw fail(e);
  }
  return clickPlan(answer);
}

/** A `ClickPlan` of the module as the object `planClick` answers; frees it. */
function clickPlan(p) {
  try {
    const refusedTo = p.errorCode === '' ? null : new AffiliateError(p.errorCode, p.errorMessage);
    if (p.kind === 0) return { credited: false, error: refusedTo, fallback: p.fallback ?? null };
    const link = { campaign: p.campaign, partner: p.partner, ad: p.ad ?? null, sid: p.sid ?? null };
    if (p.kind === 2) {
      return {
        credited: false,
        bot: true,
        botClick: { ...link, at: p.at, currency: p.currency },
        refusedTo,
        location: p.location,
      };
    }
    if (p.token === '') return { credited: true, location: p.location }; // a preview
    return {
      credited: true,
      click: { clickId: p.clickId, ...link, unique: p.unique, at: p.at, currency: p.currency, commission: p.commission },
      keptEarlier: p.keptEarlier,
      droppedSid: p.droppedSid,
      token: p.token,
      setCookie: p.setCookie ?? null,
      location: p.location,
      refusedTo,
    };
  } finally {
    p.free();
  }
}

/**
 * Where a click on `url` would land, as `planClick` decides but issuing and counting
 * nothing (what `HEAD` answers): `{credited: true, location}` with the campaign's
 * destination, or `{credited: false, error, fallback}` as `planClick`.
 */
export function previewClick(catalogue, signer, url) {
  const link = str('link', url);
  return clickPlan(Catalogue.inner(catalogue).previewClick(LinkSigner.inner(signer), link, deepTarget(link)));
}

/**
 * A link's first `to=` as this engine's WHATWG URL parser serialises it (empty when it
 * does not parse): the core decides on it with the campaign's `deep_link_hosts`, as the
 * server does on its own parse, so the module carries no URL parser.
 */
function deepTarget(link) {
  try {
    const to = new URL(link, 'http://link.invalid').searchParams.get('to');
    return to === null ? '' : new URL(to).href;
  } catch {
    return '';
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

/**
 * The landing step for a `fetch` `Request` (edge workers, Deno, Bun, Node's `fetch`
 * servers): a `GET` or `HEAD` whose URL carries a fresh, valid token (`aff_token`,
 * issued in the last 10 minutes) gets a `302` `Response` to the same URL without it,
 * setting the token as a first-party `HttpOnly` cookie from the shop's own response;
 * anything else gets `null` (serve it as asked: a stale, forged or missing token
 * changes nothing). `options`: `{now?, skewSecs?, name?, domain?, secure?}` (`secure`
 * defaults to whether the URL is https).
 */
export function landing(keys, request, options) {
  const inner = Keyring.inner(keys);
  if (request === null || typeof request !== 'object' || typeof request.url !== 'string') {
    throw malformed('request', 'must be a Request');
  }
  const o = opts('options', options);
  let url;
  try {
    url = new URL(request.url);
  } catch {
    throw malformed('request', 'its url is not a URL');
  }
  if (url.search.length <= 1) return null;
  const secure = o.secure === undefined ? url.protocol === 'https:' : o.secure;
  if (typeof secure !== 'boolean') throw malformed('secure', 'must be a boolean');
  const now = o.now === undefined ? Math.floor(Date.now() / 1000) : num('now', o.now);
  let answer;
  try {
    answer = inner.landing(
      typeof request.method === 'string' ? request.method : 'GET',
      url.pathname,
      url.search.slice(1),
      now,
      o.skewSecs === undefined ? 60 : num('skewSecs', o.skewSecs),
      o.name === undefined ? 'aff_token' : str('cookie name', o.name),
      o.domain === undefined || o.domain === null ? '' : str('cookie domain', o.domain),
      secure,
    );
  } catch (e) {
    throw fail(e);
  }
  if (answer === undefined || answer.length !== 2) return null;
  const [location, setCookie] = answer;
  return new Response(null, {
    status: 302,
    headers: { Location: location, 'Set-Cookie': setCookie, 'Cache-Control': 'no-store' },
  });
}

/**
 * `handler` (a `fetch(request, ...rest)` function) behind the landing step: a landing
 * with a fresh token is answered by {@link landing}; every other request goes to
 * `handler` unchanged.
 */
export function withLanding(keys, handler, options) {
  Keyring.inner(keys);
  if (typeof handler !== 'function') throw malformed('handler', 'must be a function');
  opts('options', options);
  return (request, ...rest) => landing(keys, request, options) ?? handler(request, ...rest);
}

/**
 * Instantiates the module now, from `source` (a `WebAssembly.Module` or its bytes).
 * Hosts that import `.wasm` files as modules use it; `affiliate-sdk` under the
 * `workerd` condition does so itself.
 */
export function initializeSync(source) {
  if (memory === null) attach(initSync({ module: source }));
}

/**
 * Loads the module from `source` (a `WebAssembly.Module`, bytes, a URL or a `Response`;
 * default: the `.wasm` file next to this one, fetched). Needed only where the module
 * cannot be read synchronously on first use: browsers. Node, Bun and Deno read it from
 * disk the first time the package is used.
 */
export async function initialize(source = wasmUrl()) {
  if (memory === null) attach(await init({ module_or_path: source }));
}

/**
 * Instantiates the module on first use (nothing happens at import, so importing the
 * package, or `require()`-ing it, costs nothing and awaits nothing): read from disk
 * next to this file in Node, Bun and Deno. Elsewhere `initialize()` must come first.
 */
function load() {
  if (memory !== null) return;
  const bytes = readModuleFile();
  if (bytes === null) {
    throw new Error(
      'affiliate-sdk: the WebAssembly module cannot be read synchronously here: `await initialize()` first',
    );
  }
  attach(initSync({ module: bytes }));
}

/** The module's bytes from disk, where this host can read a file synchronously. */
function readModuleFile() {
  const url = wasmUrl();
  if (url?.protocol !== 'file:') return null;
  const deno = globalThis.Deno;
  if (typeof deno?.readFileSync === 'function') return deno.readFileSync(url);
  const fs = globalThis.process?.getBuiltinModule?.('node:fs');
  return fs ? fs.readFileSync(url) : null;
}
