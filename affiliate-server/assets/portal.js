// The partner portal: everything it shows comes from the partner API, scoped by the
// server to the signed-in partner and its descendants. Signed in by a sign-in link
// (the server set an HttpOnly session cookie) or with a partner key (kept in this
// tab's sessionStorage and sent as a Bearer header).
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var chart = null;
  var me = null;

  function key() { return sessionStorage.getItem('affiliate-partner-key') || ''; }

  function api(method, path, body) {
    var headers = { 'X-Affiliate-Portal': '1' };
    if (key()) headers.Authorization = 'Bearer ' + key();
    var init = { method: method, headers: headers, credentials: 'same-origin' };
    if (body !== undefined) init.body = JSON.stringify(body);
    return fetch(path, init).then(function (r) {
      return r.json().then(function (json) {
        if (!r.ok) {
          var e = json && json.error ? json.error : { code: String(r.status), message: r.statusText };
          var err = new Error(e.code + ': ' + e.message);
          err.status = r.status;
          throw err;
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

  function option(select, value, label) {
    var o = document.createElement('option');
    o.value = value;
    o.textContent = label;
    select.appendChild(o);
  }

  function money(map) {
    return Object.keys(map).sort().map(function (c) { return map[c] + ' ' + c; }).join(', ') || '0';
  }

  function table(id, rows, dim) {
    var body = $(id).tBodies[0];
    body.textContent = '';
    rows.forEach(function (r) {
      var tr = document.createElement('tr');
      tr.dataset.key = r[dim] === null ? '' : r[dim];
      cell(tr, r[dim] === null ? '(none)' : r[dim]);
      cell(tr, r.clicks, 'clicks');
      cell(tr, r.leads, 'leads');
      cell(tr, r.sales, 'sales');
      cell(tr, money(r.commission), 'commission');
      body.appendChild(tr);
    });
  }

  function stats(groupBy) { return api('GET', '/v1/partner/stats?group_by=' + groupBy).then(function (r) { return r.rows; }); }

  function loadReports() {
    return Promise.all([stats('day'), stats('sid'), stats('ad'), stats('partner')]).then(function (all) {
      var days = all[0];
      if (chart) chart.destroy();
      chart = new Chart($('daily'), {
        type: 'bar',
        data: {
          labels: days.map(function (r) { return r.day; }),
          datasets: [
            { label: 'clicks', data: days.map(function (r) { return r.clicks; }), backgroundColor: '#2f6fde' },
            { label: 'conversions', data: days.map(function (r) { return r.leads + r.sales; }), backgroundColor: '#e8590c' }
          ]
        },
        options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } }
      });
      table('by-sid', all[1], 'sid');
      table('by-ad', all[2], 'ad');
      table('by-partner', all[3], 'partner');
    });
  }

  function loadEarnings() {
    return Promise.all([api('GET', '/v1/partner/balance'), api('GET', '/v1/partner/payouts'),
      api('GET', '/v1/partner/adjustments')]).then(function (r) {
      var body = $('balance').tBodies[0];
      body.textContent = '';
      r[0].rows.forEach(function (b) {
        var tr = document.createElement('tr');
        tr.dataset.currency = b.currency;
        [b.currency, b.pending, b.payable, b.in_payout, b.paid, b.clawback].forEach(function (v, i) {
          cell(tr, v, ['text', 'pending', 'payable', 'in-payout', 'paid', 'clawback'][i]);
        });
        body.appendChild(tr);
      });
      var pb = $('payouts').tBodies[0];
      pb.textContent = '';
      r[1].payouts.forEach(function (p) {
        var tr = document.createElement('tr');
        cell(tr, p.id, 'text');
        cell(tr, p.amount + ' ' + p.currency);
        cell(tr, p.status, 'text');
        cell(tr, new Date(p.created * 1000).toISOString().slice(0, 16).replace('T', ' '), 'text');
        pb.appendChild(tr);
      });
      // Bonuses and corrections the merchant made, with their memos (as text).
      var ab = $('adjustments').tBodies[0];
      ab.textContent = '';
      r[2].adjustments.forEach(function (a) {
        var tr = document.createElement('tr');
        cell(tr, a.memo, 'text');
        cell(tr, a.amount + ' ' + a.currency);
        cell(tr, a.kind, 'text');
        cell(tr, a.state, 'text');
        cell(tr, new Date(a.created * 1000).toISOString().slice(0, 16).replace('T', ' '), 'text');
        ab.appendChild(tr);
      });
    });
  }

  function loadAds(partner) {
    var q = partner && me && partner !== me.code ? '?partner=' + encodeURIComponent(partner) : '';
    return api('GET', '/v1/partner/ads' + q).then(function (r) {
      var select = $('link-ad');
      select.textContent = '';
      option(select, '', 'none');
      r.ads.forEach(function (a) { option(select, a.code, a.code + ' — ' + a.name); });
      if (q) return;
      var body = $('ads').tBodies[0];
      body.textContent = '';
      r.ads.forEach(function (a) {
        var tr = document.createElement('tr');
        tr.dataset.ad = a.code;
        cell(tr, a.code);
        cell(tr, a.name, 'text');
        cell(tr, a.media_type, 'text');
        cell(tr, a.starts_on, 'text');
        body.appendChild(tr);
      });
    });
  }

  function showMe(profile) {
    me = profile;
    $('who').textContent = profile.code + (profile.name ? ' · ' + profile.name : '');
    var campaigns = $('link-campaign');
    campaigns.textContent = '';
    profile.campaigns.forEach(function (c) { option(campaigns, c.code, c.code + ' (' + c.currency + ')'); });
    var whom = $('link-partner');
    whom.textContent = '';
    option(whom, profile.code, 'me (' + profile.code + ')');
    profile.children.forEach(function (c) { option(whom, c, c); });
    var f = $('profile-form');
    ['name', 'payout_details', 'postback_url'].forEach(function (n) { f[n].value = profile[n] || ''; });
  }

  // The partner's own postbacks: what its tracker was sent, and how it answered.
  function loadPostbacks() {
    return api('GET', '/v1/partner/postbacks?limit=20').then(function (r) {
      var body = $('postbacks').tBodies[0];
      body.textContent = '';
      r.postbacks.forEach(function (x) {
        var tr = document.createElement('tr');
        var last = x.last_attempts.length ? x.last_attempts[x.last_attempts.length - 1] : null;
        [new Date(x.created * 1000).toISOString().slice(0, 19).replace('T', ' '), x.event, x.state, x.attempts,
          last ? (last.status || '') + (last.error ? ' ' + last.error : '') : '—', x.url].forEach(function (v, i) {
          var td = document.createElement('td');
          td.textContent = String(v);
          td.className = i === 3 ? '' : 'text';
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
    });
  }

  function start() {
    return api('GET', '/v1/partner/me').then(function (profile) {
      showMe(profile);
      $('signin').hidden = true;
      $('portal').hidden = false;
      $('logout').hidden = false;
      return Promise.all([loadReports(), loadEarnings(), loadAds(), loadPostbacks()]);
    }).then(function () {
      document.body.setAttribute('data-ready', '');
    });
  }

  function signedOut(e) {
    $('signin').hidden = false;
    $('portal').hidden = true;
    $('logout').hidden = true;
    if (e && e.status !== 401) say('status', e.message, true);
    document.body.setAttribute('data-signed-out', '');
  }

  $('key-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    sessionStorage.setItem('affiliate-partner-key', $('key').value.trim());
    start().catch(function (e) { sessionStorage.removeItem('affiliate-partner-key'); signedOut(); say('status', e.message, true); });
  });

  $('logout').addEventListener('click', function () {
    sessionStorage.removeItem('affiliate-partner-key');
    fetch('/portal/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-Affiliate-Portal': '1' } }).then(function () { location.replace('/portal'); });
  });

  $('link-partner').addEventListener('change', function (ev) { loadAds(ev.target.value).catch(function (e) { say('status', e.message, true); }); });

  $('link-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target, body = { campaign: f.campaign.value };
    if (f.partner.value && f.partner.value !== me.code) body.partner = f.partner.value;
    if (f.ad.value) body.ad = f.ad.value;
    if (f.sid.value.trim()) body.sid = f.sid.value.trim();
    if (f.to.value.trim()) body.to = f.to.value.trim();
    api('POST', '/v1/partner/links', body).then(function (r) {
      $('link-out').textContent = r.url;
      $('link-copy').hidden = false;
      say('status', '');
    }).catch(function (e) { say('status', e.message, true); });
  });

  $('link-copy').addEventListener('click', function () {
    if (navigator.clipboard) navigator.clipboard.writeText($('link-out').textContent).catch(function () {});
  });

  $('ad-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target, body = { code: f.code.value.trim(), name: f.name.value.trim(), media_type: f.media_type.value };
    if (f.starts_on.value) body.starts_on = f.starts_on.value;
    if (f.description.value.trim()) body.description = f.description.value.trim();
    api('POST', '/v1/partner/ads', body).then(function () {
      f.reset();
      return loadAds();
    }).then(function () { say('status', 'Ad added.'); }).catch(function (e) { say('status', e.message, true); });
  });

  $('profile-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target, body = {};
    ['name', 'payout_details', 'postback_url'].forEach(function (n) { body[n] = f[n].value.trim() || null; });
    api('PATCH', '/v1/partner/me', body).then(function (profile) {
      showMe(profile);
      say('profile-status', 'Saved.');
    }).catch(function (e) { say('profile-status', e.message, true); });
  });

  var reasons = {
    forbidden: 'This sign-in link was used already, or your account is suspended. Ask the merchant for a new link.',
    expired: 'This sign-in link expired. Ask the merchant for a new link.'
  };
  window.affiliatePortal = { loadPostbacks: loadPostbacks };
  var error = new URLSearchParams(location.search).get('error');
  if (error) say('status', reasons[error] || 'This sign-in link is not valid.', true);
  start().catch(signedOut);
})();
