// The dashboard's program views: partners (create, suspend or activate, coupons, a
// signed link for any campaign) and the conversions review (filter by status, select,
// approve or reject in bulk, download the CSV file). Every decision is the server's;
// this page only calls the merchant API with the key and shows the answers.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var partnersCursor = null, reviewCursor = null;

  function key() { return $('key').value.trim(); }

  function api(method, path, body) {
    var init = { method: method, headers: { Authorization: 'Bearer ' + key() } };
    if (body !== undefined) init.body = JSON.stringify(body);
    return fetch(path, init).then(function (r) {
      if (r.status === 204) return null; // done, nothing to say
      return r.json().then(function (json) {
        if (!r.ok) {
          var e = json && json.error ? json.error : { code: String(r.status), message: r.statusText };
          throw new Error(e.code + ': ' + e.message);
        }
        return json;
      });
    });
  }

  function say(id, text, isError) {
    $(id).textContent = text;
    $(id).className = isError ? 'error' : '';
  }

  function cell(tr, text, cls) {
    var td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '—' : String(text);
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function button(td, label, onClick) {
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.addEventListener('click', onClick);
    td.appendChild(b);
    return b;
  }

  function fail(e) { say('program-status', e.message, true); }

  function partnerRow(p) {
    var tr = document.createElement('tr');
    tr.dataset.partner = p.code;
    cell(tr, p.code);
    cell(tr, p.parent, 'text');
    cell(tr, p.name, 'text');
    cell(tr, p.status + (p.managed_by_config ? ' (config)' : ''), 'text status');
    cell(tr, p.coupons.map(function (c) { return c.code + (c.campaign ? ' (' + c.campaign + ')' : ''); }).join(', '), 'text coupons');
    var actions = cell(tr, '', 'text');
    actions.textContent = '';
    if (!p.managed_by_config) {
      var next = p.status === 'active' ? 'suspended' : 'active';
      button(actions, p.status === 'active' ? 'Suspend' : 'Activate', function () {
        api('PATCH', '/v1/partners/' + encodeURIComponent(p.code), { status: next })
          .then(function (q) { tr.replaceWith(partnerRow(q)); say('program-status', p.code + ' is ' + q.status + '.'); })
          .catch(fail);
      }).className = 'toggle';
      var coupon = document.createElement('input');
      coupon.placeholder = 'coupon';
      coupon.size = 10;
      coupon.className = 'coupon-code';
      actions.appendChild(coupon);
      button(actions, 'Add coupon', function () {
        api('POST', '/v1/partners/' + encodeURIComponent(p.code) + '/coupons', { code: coupon.value.trim() })
          .then(function () { return api('GET', '/v1/partners/' + encodeURIComponent(p.code)); })
          .then(function (q) { tr.replaceWith(partnerRow(q)); say('program-status', 'Coupon added to ' + p.code + '.'); })
          .catch(fail);
      }).className = 'add-coupon';
    }
    button(actions, 'Link', function () {
      var body = { campaign: $('link-campaign').value, partner: p.code };
      if ($('link-to').value.trim()) body.to = $('link-to').value.trim();
      api('POST', '/v1/links', body)
        .then(function (r) { $('link-out').textContent = r.url; say('program-status', 'Link for ' + p.code + ':'); })
        .catch(fail);
    }).className = 'make-link';
    // A single-use portal sign-in link to send the partner (15 minutes).
    button(actions, 'Portal link', function () {
      api('POST', '/v1/partners/' + encodeURIComponent(p.code) + '/portal-link', {})
        .then(function (r) { $('link-out').textContent = r.url; say('program-status', 'Portal sign-in link for ' + p.code + ' (works once, 15 minutes):'); })
        .catch(fail);
    }).className = 'portal-link';
    return tr;
  }

  function loadPartners(more) {
    var q = new URLSearchParams({ limit: '100' });
    if (more && partnersCursor) q.set('cursor', partnersCursor);
    return api('GET', '/v1/partners?' + q.toString()).then(function (page) {
      var body = $('program-partners').tBodies[0];
      if (!more) body.textContent = '';
      page.partners.forEach(function (p) { body.appendChild(partnerRow(p)); });
      partnersCursor = page.next_cursor;
      $('partners-more').hidden = !partnersCursor;
    });
  }

  function loadCampaigns() {
    return api('GET', '/v1/campaigns').then(function (r) {
      var select = $('link-campaign');
      select.textContent = '';
      r.campaigns.forEach(function (c) {
        var o = document.createElement('option');
        o.value = c.code;
        o.textContent = c.code + (c.status === 'paused' ? ' (paused)' : '');
        select.appendChild(o);
      });
    });
  }

  function time(unix) { return new Date(unix * 1000).toISOString().slice(0, 19).replace('T', ' '); }

  function conversionRow(c) {
    var tr = document.createElement('tr');
    tr.dataset.order = c.order_id;
    var pick = document.createElement('input');
    pick.type = 'checkbox';
    pick.className = 'pick';
    pick.value = c.order_id;
    cell(tr, '', 'text').appendChild(pick);
    cell(tr, c.order_id, 'text');
    cell(tr, time(c.converted_at), 'text');
    cell(tr, c.campaign, 'text');
    cell(tr, c.partner, 'text');
    cell(tr, c.amount + ' ' + c.currency);
    // What was refunded of it (each beneficiary gave back its share).
    cell(tr, /^0(\.0+)?$/.test(c.refunded) ? '' : c.refunded + ' ' + c.currency, 'refunded');
    var total = c.commissions.reduce(function (s, k) { return s + Math.round(Number(k.amount) * 100); }, 0);
    cell(tr, (total / 100).toFixed(2) + ' ' + c.currency);
    cell(tr, c.status, 'text status');
    return tr;
  }

  function reviewQuery() {
    var q = new URLSearchParams();
    if ($('review-status').value) q.set('status', $('review-status').value);
    return q;
  }

  function loadConversions(more) {
    var q = reviewQuery();
    q.set('limit', '100');
    if (more && reviewCursor) q.set('cursor', reviewCursor);
    return api('GET', '/v1/conversions?' + q.toString()).then(function (page) {
      var body = $('conversions').tBodies[0];
      if (!more) body.textContent = '';
      page.conversions.forEach(function (c) { body.appendChild(conversionRow(c)); });
      reviewCursor = page.next_cursor;
      $('review-more').hidden = !reviewCursor;
      $('review-all').checked = false;
      say('review-status-line', body.rows.length + ' shown.');
    });
  }

  function bulk(status) {
    var ids = Array.prototype.map.call(document.querySelectorAll('#conversions .pick:checked'), function (c) { return c.value; });
    if (!ids.length) { say('review-status-line', 'Select conversions first.', true); return; }
    api('POST', '/v1/conversions/status', { order_ids: ids, status: status }).then(function (r) {
      var failed = r.results.filter(function (x) { return x.error; });
      return Promise.all([loadConversions(false), loadBalances()]).then(function () {
        say('review-status-line', (ids.length - failed.length) + ' ' + status + (failed.length
          ? '; refused: ' + failed.map(function (x) { return x.order_id + ' (' + x.error.code + ')'; }).join(', ') : '') + '.', failed.length > 0);
      });
    }).catch(function (e) { say('review-status-line', e.message, true); });
  }

  // A CSV file comes with the key in a header, so it is fetched and handed to the
  // browser as a file; a refusal is said on `statusId`.
  function download(path, name, statusId) {
    fetch(path, { headers: { Authorization: 'Bearer ' + key() } })
      .then(function (r) {
        if (!r.ok) return r.json().then(function (j) { throw new Error(j.error.code + ': ' + j.error.message); });
        return r.blob();
      })
      .then(function (blob) {
        var a = document.createElement('a');
        a.href = URL.createObjectURL(blob);
        a.download = name;
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
      })
      .catch(function (e) { say(statusId, e.message, true); });
  }

  function downloadCsv() {
    download('/v1/conversions.csv?' + reviewQuery().toString(), 'conversions.csv', 'review-status-line');
  }

  // Each beneficiary on its own row: a parent's overrides are the parent's.
  function loadBalances() {
    return api('GET', '/v1/balances').then(function (r) {
      var body = $('balances').tBodies[0];
      body.textContent = '';
      r.rows.forEach(function (b) {
        var tr = document.createElement('tr');
        tr.dataset.partner = b.partner;
        tr.dataset.currency = b.currency;
        [b.partner, b.currency, b.pending, b.payable, b.in_payout, b.paid, b.clawback].forEach(function (v, i) {
          cell(tr, v, i === 1 ? 'text' : ['', '', 'pending', 'payable', 'in-payout', 'paid', 'clawback'][i]);
        });
        body.appendChild(tr);
      });
    });
  }

  // What the payouts view (payouts.js) shares with this one.
  window.affiliateDashboard = { api: api, say: say, cell: cell, button: button, key: key, loadBalances: loadBalances, download: download };

  function loadAll() {
    if (!key()) return;
    document.body.removeAttribute('data-program');
    var payouts = window.affiliatePayouts ? window.affiliatePayouts.load() : null;
    var webhooks = window.affiliateWebhooks ? window.affiliateWebhooks.load() : null;
    Promise.all([loadCampaigns(), loadPartners(false), loadConversions(false), loadBalances(), payouts, webhooks])
      .then(function () { document.body.setAttribute('data-program', 'ready'); })
      .catch(function (e) { fail(e); document.body.setAttribute('data-program', 'error'); });
  }

  $('new-partner').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target, body = { code: f.code.value.trim() };
    ['parent', 'name', 'email'].forEach(function (n) { if (f[n].value.trim()) body[n] = f[n].value.trim(); });
    api('POST', '/v1/partners', body).then(function (p) {
      f.reset();
      say('program-status', 'Partner ' + p.code + ' created.');
      return loadPartners(false);
    }).catch(fail);
  });
  $('partners-more').addEventListener('click', function () { loadPartners(true).catch(fail); });
  $('review-more').addEventListener('click', function () { loadConversions(true).catch(fail); });
  $('review-status').addEventListener('change', function () { loadConversions(false).catch(fail); });
  $('review-all').addEventListener('change', function (ev) {
    document.querySelectorAll('#conversions .pick').forEach(function (c) { c.checked = ev.target.checked; });
  });
  $('review-approve').addEventListener('click', function () { bulk('approved'); });
  $('review-reject').addEventListener('click', function () { bulk('rejected'); });
  $('review-csv').addEventListener('click', downloadCsv);
  $('load').addEventListener('click', loadAll);
  $('key').addEventListener('keydown', function (e) { if (e.key === 'Enter') loadAll(); });
  if (key()) loadAll();
})();
