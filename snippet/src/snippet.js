// affiliate-sdk browser snippet (source). Reference: snippet/README.md and docs/snippet.md.
// `npm run build` writes dist/snippet.js (esbuild, minified), which affiliate-server
// serves at /snippet.js; test/snippet.test.mjs checks the build and its size.
//
// <script async src="https://t.shop.example/snippet.js" data-endpoint="https://t.shop.example"></script>
// <script>window.affiliate=window.affiliate||function(){(affiliate.q=affiliate.q||[]).push(arguments)};
// affiliate('conversion', {orderId: 'A-1001', amount: '49.90', currency: 'USD', kind: 'sale',
//   signature: '<osig from the shop backend>'});</script>
((w, d) => {
  try {
    // The snippet's own tag's data- attributes (classic scripts only: in a module it
    // stops here).
    var data = d.currentScript.dataset;
    var endpoint = (data.endpoint || '').replace(/\/+$/, '');
    var param = data.param || 'aff_token';
    var cookieDomain = data.cookieDomain;
    var firstClick = data.attribution == 'first';
    var consent = data.requireConsent == null;
    // data-decorate="checkout.example,pay.example": the merchant's other sites (a hosted
    // checkout) that links and forms carry the token to.
    var hosts = (data.decorate || '').match(/[^\s,]+/g) || [];
    // Calls from the page and its events never throw into it.
    var safe = (f) => (a) => {
      try {
        f(a);
      } catch (e) { /* never into the host page */ }
    };
    var waiting = [];
    // v1.<kid>.<exp>.<iat>.<click id>.<campaign>.<partner>.<ad>.<sid>.<tag>: the shape
    // only (cookie- and HTML-safe characters); the tracker checks the signature.
    var TOKEN = /^v1\.[\w-]+\.(\d+)\.(\d+)\.[\w-]+\.([\w-]+)\.[\w.~-]+$/;
    var now = () => Math.floor(Date.now() / 1000);
    // [token, expires at, issued at, campaign] (the match) of a well-formed, unexpired
    // token, else a falsy value. (A missing one is read as "undefined": no match.)
    var read = (t) => {
      var m = TOKEN.exec(t);
      return m && m[1] > now() && m;
    };
    var current = () => read((d.cookie.match(RegExp('(^|; )' + param + '=([^;]*)')) || 0)[2]);

    var cookie = (value, maxAge) => {
      d.cookie = param + '=' + value + '; Max-Age=' + maxAge + '; Path=/; SameSite=Lax' +
        (cookieDomain ? '; Domain=' + cookieDomain : '') + (location.protocol[4] == 's' ? '; Secure' : '');
    };
    // The URL `u` (absolute) when its host is one of data-decorate's, else false.
    var listed = (u) => {
      u = new URL(u);
      return hosts.includes(u.hostname) && u;
    };
    // Landing: the token in the URL, only when it was issued in the last 10 minutes
    // (60 s of clock skew allowed: now - iat within [-60, 600]): a landing comes
    // straight from a click, an older token is a shared or posted link. A token carried
    // over from one of the merchant's decorated sites (the referrer) is not a shared
    // link: any age before its expiry is accepted. Read once, when the page loads, so
    // consent given later on the page still stores it.
    var landed = read(new URLSearchParams(location.search).get(param));
    if (landed && Math.abs(now() - landed[2] - 270) > 330 && !listed(d.referrer || 'x:')) landed = null;
    // Moves the landing token into a first-party cookie, once the tracker says it is
    // its own (GET /v1/token answers 204): a forged or altered token in a link never
    // replaces the visitor's real one. No fetch, nothing stored. Conversions wait for
    // the answer (`checked`), so one sent at once still carries the landing token.
    var checked = Promise.resolve();
    var land = () => {
      var l = landed;
      landed = null;
      if (l && w.fetch) checked = w.fetch(endpoint + '/v1/token?token=' + l[0]).then((r) => {
        var had = current();
        if (r.ok && consent && !(firstClick && had && had[3] == l[3])) cookie(l[0], l[1] - now());
      }, () => {});
    };

    var send = (c) => checked.then(() => {
      var had = current();
      var body = {
        order_id: '' + c.orderId, amount: '' + c.amount, currency: '' + c.currency,
        kind: '' + (c.kind || 'sale'),
      };
      if (had) body.token = had[0];
      if (c.signature) body.osig = '' + c.signature;
      var url = endpoint + '/v1/conversions';
      var json = JSON.stringify(body);
      var nav = w.navigator;
      // The beacon, else fetch, else the image pixel.
      (nav.sendBeacon && nav.sendBeacon(url, json)) ||
        (w.fetch
          ? w.fetch(url, { method: 'POST', body: json, keepalive: true, credentials: 'include' })['catch'](() => {})
          : (new w.Image().src = endpoint + '/px.gif?' + new URLSearchParams(body)));
    })['catch'](() => {});

    var handle = safe((args) => {
      if (args[0] == 'consent') {
        // Refused or withdrawn: a stored token goes.
        (consent = args[1] !== false) ? (land(), waiting.splice(0).map(send)) : cookie('', 0);
      } else if (args[0] == 'conversion' && args[1]) {
        consent ? send(args[1]) : waiting.push(args[1]);
      }
    });

    // Links and forms to a decorated host get the current token when followed (on
    // mousedown too, so "open in new tab" carries it). A GET form's fields replace the
    // query of its action, so it gets a hidden field as well.
    var decorate = safe((e) => {
      var t = current(), el = e.target.closest(e.type == 'submit' ? 'form' : 'a[href]'), k, u;
      if (t && el && (u = listed(el[(k = el.href ? 'href' : 'action')]))) {
        u.searchParams.set(param, t[0]);
        el[k] = u.href;
        if (el.method == 'get') el.insertAdjacentHTML('beforeend', '<input type=hidden name=' + param + ' value=' + t[0] + '>');
      }
    });
    'mousedown click submit'.split(' ').forEach((type) => d.addEventListener(type, decorate, true));

    var queued = (w.affiliate || 0).q || [];
    w.affiliate = (...args) => handle(args);
    if (consent) land();
    queued.forEach(handle);
  } catch (e) { /* never into the host page */ }
})(window, document);
