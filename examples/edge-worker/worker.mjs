// An edge worker that is its own click tracker, with nothing but the affiliate-sdk
// package: a standard `fetch(request, env)` handler, the shape Cloudflare Workers, Deno
// and Bun serve.
//
//   GET /go/{campaign}/{partner}[/{ad}]?sig=…[&sid=…]
//     valid link   → 302 to the campaign's destination with aff_token=<token>, and
//                    Set-Cookie: aff_token=<token> on the tracker's domain
//     altered link → 302 to the destination, crediting nobody, setting nothing
//     unknown campaign → 404
//
// First-click campaigns keep the visitor's earlier token. Clicks are reported to
// `onClick` (send them to your store or analytics; the worker keeps no state).
//
// Configuration (env): AFFILIATE_KEYS = '{"k1": "<base64url key>"}',
// AFFILIATE_CURRENT_KID = 'k1', AFFILIATE_CAMPAIGNS = '{"haircare": {"destination":
// "https://shop.example/hair", "cookieDays": 28, "attribution": "last"}}',
// AFFILIATE_COOKIE_DOMAIN (optional).

import {
  AffiliateError,
  Keyring,
  LinkSigner,
  decideClick,
  issueToken,
  newClickId,
  parseCookieHeader,
  setCookieHeader,
  tokenExpiry,
} from 'affiliate-sdk';

const DAY = 86_400;
const PARAM = 'aff_token';

/**
 * The worker for `config`: `{keys: Keyring, campaigns: {code: {destination,
 * cookieDays?, attribution?}}, cookieDomain?, onClick?(click)}`.
 */
export function createWorker({ keys, campaigns, cookieDomain = null, onClick = () => {} }) {
  const destinations = new Map();
  for (const [code, c] of Object.entries(campaigns)) {
    // Checked once: only http(s) destinations, as the server's config loader does.
    const url = new URL(c.destination);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new AffiliateError('malformed', `malformed destination of ${code}: scheme must be http or https`);
    }
    destinations.set(code, {
      url,
      windowSecs: (c.cookieDays ?? 30) * DAY,
      attribution: c.attribution ?? 'last',
    });
  }

  // One signer per host the worker is reached under.
  const signers = new Map();
  const signerFor = (origin) => {
    let s = signers.get(origin);
    if (!s) signers.set(origin, (s = new LinkSigner(keys, `${origin}/go`)));
    return s;
  };

  async function fetch(request) {
    const url = new URL(request.url);
    if (request.method !== 'GET' || !url.pathname.startsWith('/go/')) {
      return new Response('not found\n', { status: 404 });
    }
    const signer = signerFor(url.origin);
    const campaignCode = url.pathname.split('/')[2];
    const campaign = destinations.get(campaignCode);
    if (!campaign) return new Response('unknown campaign\n', { status: 404 });

    let link;
    try {
      link = signer.verifyClick(request.url);
    } catch (e) {
      if (!(e instanceof AffiliateError)) throw e;
      // An altered or unsigned link: the visitor lands, nobody is credited.
      return Response.redirect(campaign.url.href, 302);
    }

    const nowMs = Date.now();
    const now = Math.floor(nowMs / 1000);
    let prior = null;
    try {
      prior = parseCookieHeader(request.headers.get('cookie') ?? '', PARAM);
    } catch {
      // An oversized Cookie header: treated as no earlier token.
    }
    const decision = decideClick(keys, link, prior, { now, attribution: campaign.attribution });
    const clickId = newClickId(nowMs);
    let token;
    let maxAge;
    if (decision.keepEarlier) {
      token = prior;
      maxAge = Math.max(0, tokenExpiry(prior) - now);
    } else {
      token = issueToken(keys, { clickId, ...link, issuedAt: now, expiresAt: now + campaign.windowSecs });
      maxAge = campaign.windowSecs;
    }
    await onClick({ clickId, ...link, unique: decision.unique, keptEarlier: decision.keepEarlier, at: now });

    const location = new URL(campaign.url.href);
    location.searchParams.set(PARAM, token);
    const headers = new Headers({ location: location.href, 'cache-control': 'no-store' });
    headers.append(
      'set-cookie',
      setCookieHeader(token, maxAge, { domain: cookieDomain, secure: url.protocol === 'https:' }),
    );
    return new Response(null, { status: 302, headers });
  }

  return { fetch };
}

let fromEnv = null;

export default {
  /** The platform entry point: configuration from `env`, built on the first request. */
  fetch(request, env) {
    fromEnv ??= createWorker({
      keys: new Keyring(JSON.parse(env.AFFILIATE_KEYS), env.AFFILIATE_CURRENT_KID),
      campaigns: JSON.parse(env.AFFILIATE_CAMPAIGNS),
      cookieDomain: env.AFFILIATE_COOKIE_DOMAIN || null,
    });
    return fromEnv.fetch(request);
  },
};
