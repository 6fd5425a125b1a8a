// affiliate-sdk browser snippet (source). Reference: snippet/README.md and docs/snippet.md.
// `npm run build` writes dist/snippet.js (esbuild, minified), which affiliate-server
// serves at /snippet.js; test/snippet.test.mjs checks the build and its size.
//
// <script async src="https://t.shop.example/snippet.js" data-endpoint="https://t.shop.example"></script>
// <script>window.affiliate=window.affiliate||function(){(affiliate.q=affiliate.q||[]).push(arguments)};
// affiliate('conversion', {orderId: 'A-1001', amount: '49.90', currency: 'USD', kind: 'sale',
//   signature: '<osig from the shop backend>'});</script>
(function (w, d) {
  'use strict';
  try {
    var script = d.currentScript || {};
    var data = function (name) {
      return script.getAttribute ? script.getAttribute('data-' + name) : null;
    };
    var endpoint = (data('endpoint') || '').replace(/\/+$/, '');
    var param = data('param') || 'aff_token';
    var cookieDomain = data('cookie-domain');
    var firstClick = data('attribution') === 'first';
    var consent = data('require-consent') === null;
    var waiting = [];
    // v1.<kid>.<exp>.<iat>.<click id>.<campaign>.<partner>.<ad>.<sid>.<tag>
    var TOKEN = /^v1\.[\w-]{1,16}\.(\d{1,12})\.(\d{1,12})\.[\w-]{22}\.([\w-]{1,64})\.[\w-]{1,64}\.[\w-]{0,64}\.[\w.~-]{0,64}\.[\w-]{22}$/;
    var now = function () { return Math.floor(Date.now() / 1000); };
    // [token, expires at, campaign, issued at] of a well-formed, unexpired token, else null.
    var read = function (t) {
      var m = TOKEN.exec(t || '');
      return m && +m[1] > now() ? [t, +m[1], m[3], +m[2]] : null;
    };
    var current = function () {
      var m = d.cookie.match(new RegExp('(?:^|; )' + param + '=([^;]*)'));
      return read(m && m[1]);
    };

    var cookie = function (value, maxAge) {
      d.cookie = param + '=' + value + '; Max-Age=' + maxAge + '; Path=/; SameSite=Lax' +
        (cookieDomain ? '; Domain=' + cookieDomain : '') + (w.location.protocol === 'https:' ? '; Secure' : '');
    };
    // Landing: the token in the URL, only when it was issued in the last 10 minutes
    // (60 s of clock skew allowed): a landing comes straight from a click, an older
    // token is a shared or posted link. Read once, when the page loads, so consent
    // given later on the page still stores it.
    var landed = read(new URLSearchParams(w.location.search).get(param));
    if (landed && (now() - landed[3] > 600 || landed[3] - now() > 60)) landed = null;
    // Moves the landing token into a first-party cookie.
    var land = function () {
      if (!landed) return;
      var had = current();
      if (!(firstClick && had && had[2] === landed[2])) cookie(landed[0], landed[1] - now());
      landed = null;
    };

    var send = function (c) {
      var had = current();
      var body = {
        order_id: String(c.orderId), amount: String(c.amount), currency: String(c.currency),
        kind: String(c.kind || 'sale'),
      };
      if (had) body.token = had[0];
      if (c.signature) body.osig = String(c.signature);
      var url = endpoint + '/v1/conversions';
      var json = JSON.stringify(body);
      var nav = w.navigator;
      if (nav.sendBeacon && nav.sendBeacon(url, json)) return;
      if (w.fetch) {
        w.fetch(url, { method: 'POST', body: json, keepalive: true, credentials: 'include' })['catch'](function () {});
        return;
      }
      new w.Image().src = endpoint + '/px.gif?' + new URLSearchParams(body);
    };

    var handle = function (args) {
      try {
        if (args[0] === 'consent') {
          consent = args[1] !== false;
          if (consent) {
            land();
            while (waiting.length) send(waiting.shift());
          } else {
            // Consent refused or withdrawn: a stored token goes.
            cookie('', 0);
          }
        } else if (args[0] === 'conversion' && args[1]) {
          if (consent) send(args[1]);
          else waiting.push(args[1]);
        }
      } catch (e) { /* never into the host page */ }
    };

    var queued = (w.affiliate && w.affiliate.q) || [];
    w.affiliate = function () { handle(arguments); };
    if (consent) land();
    for (var i = 0; i < queued.length; i++) handle(queued[i]);
  } catch (e) { /* never into the host page */ }
})(window, document);
