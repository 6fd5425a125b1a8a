// The catalogue of an edge worker and the core's click plan over it.

import { Catalogue as WasmCatalogue } from './affiliate_sdk_wasm.js';
import { AffiliateError, fail, malformed, num, opts, skew, str } from './errors.js';
import { Keyring, LinkSigner } from './keys.js';
import { load } from './module.js';

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

