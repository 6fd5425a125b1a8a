// An edge worker that is its own click tracker, with nothing but the affiliate-sdk
// package: a standard `fetch(request, env)` handler, the shape Cloudflare Workers, Deno
// and Bun serve. Every decision is the Rust core's click plan (`planClick`), the same
// code affiliate-server runs, so the worker credits exactly what the server would.
//
//   GET /go/{campaign}/{partner}[/{ad}]?sig=…[&sid=…]
//     valid link of a known partner → 302 to the campaign's destination with
//                    aff_token=<token>, and Set-Cookie: aff_token=<token>
//     altered link, or a partner the merchant never created → 302 to the destination,
//                    crediting nobody, setting nothing
//     unknown campaign → 404
//   HEAD on the same: the status and Location a GET would get, issuing nothing
//
// First-click campaigns keep the visitor's earlier token. Clicks are reported to
// `onClick` (send them to your store or analytics; the worker keeps no state).
//
// Configuration (env): AFFILIATE_KEYS = '{"k1": "<base64url key>"}',
// AFFILIATE_CURRENT_KID = 'k1', AFFILIATE_CAMPAIGNS = '[{"code": "haircare",
// "destination": "https://shop.example/hair", "currency": "USD", "cookie_days": 28}]',
// AFFILIATE_PARTNERS = '[{"code": "abc123"}, {"code": "sub1", "parent": "abc123"}]',
// AFFILIATE_COOKIE_DOMAIN (optional). Campaigns and partners are written as in
// affiliate-server's config file.

import { isbot } from 'isbot';
import { Catalogue, Keyring, LinkSigner, parseCookieHeader, planClick, previewClick } from 'affiliate-sdk';

const PARAM = 'aff_token';

/**
 * The worker for `config`: `{keys: Keyring, campaigns: [CampaignSpec], partners:
 * [PartnerSpec], cookieDomain?, onClick?(click)}`. Partners are added in order, so a
 * parent comes before its children.
 */
export function createWorker({ keys, campaigns, partners, cookieDomain = null, onClick = () => {} }) {
  const catalogue = new Catalogue({ param: PARAM });
  for (const c of campaigns) catalogue.addCampaign(c);
  for (const p of partners) catalogue.addPartner(p);

  // One signer per host the worker is reached under.
  const signers = new Map();
  const signerFor = (origin) => {
    let s = signers.get(origin);
    if (!s) signers.set(origin, (s = new LinkSigner(keys, `${origin}/go`)));
    return s;
  };

  async function fetch(request) {
    const url = new URL(request.url);
    const head = request.method === 'HEAD';
    if ((request.method !== 'GET' && !head) || !url.pathname.startsWith('/go/')) {
      return new Response('not found\n', { status: 404 });
    }
    const signer = signerFor(url.origin);
    if (head) {
      // What a GET would answer, without a token: nothing issued, nothing counted.
      const p = previewClick(catalogue, signer, request.url);
      if (p.credited) return redirect(p.location);
      return p.fallback === null ? new Response(null, { status: 404 }) : redirect(p.fallback);
    }
    let prior = null;
    try {
      prior = parseCookieHeader(request.headers.get('cookie') ?? '', PARAM);
    } catch {
      // An oversized Cookie header: treated as no earlier token.
    }
    const plan = planClick(catalogue, signer, request.url, {
      priorToken: prior,
      cookieDomain,
      secure: url.protocol === 'https:',
      // Bots and link previews (and requests with no user agent) land with no token
      // and earn nothing.
      bot: isbot(request.headers.get('user-agent') ?? '') || !request.headers.get('user-agent'),
    });
    if (plan.bot) {
      await onClick({ ...plan.botClick, bot: true });
      return redirect(plan.location);
    }
    if (!plan.credited) {
      // Credit nobody, set nothing: land on the campaign's destination if it exists.
      if (plan.fallback === null) return new Response('unknown campaign\n', { status: 404 });
      return redirect(plan.fallback);
    }
    await onClick({ ...plan.click, keptEarlier: plan.keptEarlier });
    const res = redirect(plan.location);
    // null when the campaign waits for the visitor's consent.
    if (plan.setCookie) res.headers.append('set-cookie', plan.setCookie);
    return res;
  }

  return { fetch };
}

function redirect(location) {
  return new Response(null, { status: 302, headers: { location, 'cache-control': 'no-store' } });
}

let fromEnv = null;

export default {
  /** The platform entry point: configuration from `env`, built on the first request. */
  fetch(request, env) {
    fromEnv ??= createWorker({
      keys: new Keyring(JSON.parse(env.AFFILIATE_KEYS), env.AFFILIATE_CURRENT_KID),
      campaigns: JSON.parse(env.AFFILIATE_CAMPAIGNS),
      partners: JSON.parse(env.AFFILIATE_PARTNERS ?? '[]'),
      cookieDomain: env.AFFILIATE_COOKIE_DOMAIN || null,
    });
    return fromEnv.fetch(request);
  },
};
