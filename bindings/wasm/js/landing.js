// The landing step: a visitor arriving with a fresh token gets it as a first-party
// cookie and a clean URL.

import { fail, malformed, num, opts, str } from './errors.js';
import { Keyring } from './keys.js';

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

