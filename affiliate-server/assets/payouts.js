// The dashboard's payouts view: create a payout run for a currency (optionally up to
// a day and above a minimum), mark each payout paid or failed, download the CSV for a
// bank or payment provider upload. Each run carries an Idempotency-Key made when the
// form is sent, so a double click or a retried request makes the run once.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var d = window.affiliateDashboard;

  function newKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return 'dash-' + Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function time(secs) { return new Date(secs * 1000).toISOString().slice(0, 16).replace('T', ' '); }

  function payoutRow(p) {
    var tr = document.createElement('tr');
    tr.dataset.payout = p.id;
    tr.dataset.partner = p.partner;
    d.cell(tr, p.id, 'text');
    d.cell(tr, p.partner, 'text');
    d.cell(tr, p.currency, 'text');
    d.cell(tr, p.amount, 'amount');
    d.cell(tr, p.entries);
    d.cell(tr, p.status, 'text status');
    d.cell(tr, time(p.created), 'text');
    var actions = d.cell(tr, '', 'text');
    actions.textContent = '';
    if (p.status === 'pending') {
      d.button(actions, 'Mark paid', function () { settle(p.id, 'paid'); }).className = 'paid';
      d.button(actions, 'Mark failed', function () { settle(p.id, 'failed'); }).className = 'failed';
    }
    return tr;
  }

  function load() {
    return d.api('GET', '/v1/payouts').then(function (r) {
      var body = $('payouts').tBodies[0];
      body.textContent = '';
      r.payouts.forEach(function (p) { body.appendChild(payoutRow(p)); });
    });
  }

  function settle(id, status) {
    d.api('POST', '/v1/payouts/' + encodeURIComponent(id) + '/status', { status: status })
      .then(function (p) {
        return Promise.all([load(), d.loadBalances()]).then(function () {
          d.say('payouts-status-line', p.partner + ': ' + p.amount + ' ' + p.currency + ' ' + p.status + '.');
        });
      })
      .catch(function (e) { d.say('payouts-status-line', e.message, true); });
  }

  var pendingKey = null;
  $('payout-run').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target, body = { currency: f.currency.value.trim().toUpperCase() };
    if (f.up_to.value) body.up_to = f.up_to.value;
    if (f.min_amount.value.trim()) body.min_amount = f.min_amount.value.trim();
    // One key per run asked for: a second click before the answer reuses it.
    pendingKey = pendingKey || newKey();
    var init = {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + d.key(), 'Idempotency-Key': pendingKey },
      body: JSON.stringify(body)
    };
    fetch('/v1/payouts', init).then(function (r) {
      return r.json().then(function (json) {
        if (!r.ok) throw new Error(json.error.code + ': ' + json.error.message);
        pendingKey = null;
        return Promise.all([load(), d.loadBalances()]).then(function () {
          var total = json.payouts.length;
          // Who the run passed over, and why (below the minimum, owes back, too large).
          var skipped = (json.skipped || []).map(function (s) {
            return s.partner + ' (' + s.reason.replace(/_/g, ' ') + ', ' + s.amount + ' ' + s.currency + ')';
          });
          d.say('payouts-status-line', (total ? total + ' payout' + (total > 1 ? 's' : '') + ' created.' : 'Nobody is owed enough yet.') +
            (skipped.length ? ' Passed over: ' + skipped.join(', ') + '.' : ''));
        });
      });
    }).catch(function (e) { pendingKey = null; d.say('payouts-status-line', e.message, true); });
  });

  $('payouts-csv').addEventListener('click', function () {
    d.download('/v1/payouts.csv', 'payouts.csv', 'payouts-status-line');
  });

  // Adjustments: a bonus or a correction of a partner's balance, with its memo (shown
  // to the partner); one Idempotency-Key per adjustment asked for.
  function loadAdjustments() {
    return d.api('GET', '/v1/adjustments').then(function (r) {
      var body = $('adjustments').tBodies[0];
      body.textContent = '';
      r.adjustments.forEach(function (a) {
        var tr = document.createElement('tr');
        tr.dataset.adjustment = a.id;
        tr.dataset.partner = a.partner;
        d.cell(tr, a.id, 'text');
        d.cell(tr, a.partner, 'text');
        d.cell(tr, a.currency, 'text');
        d.cell(tr, a.amount, 'amount');
        d.cell(tr, a.kind, 'text');
        d.cell(tr, a.memo, 'text memo');
        d.cell(tr, a.state, 'text state');
        d.cell(tr, time(a.created), 'text');
        body.appendChild(tr);
      });
    });
  }

  var adjustmentKey = null;
  $('adjustment-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target;
    var body = {
      partner: f.partner.value.trim(), currency: f.currency.value.trim().toUpperCase(),
      amount: f.amount.value.trim(), kind: f.kind.value, memo: f.memo.value
    };
    adjustmentKey = adjustmentKey || newKey();
    fetch('/v1/adjustments', {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + d.key(), 'Idempotency-Key': adjustmentKey },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (json) {
        if (!r.ok) throw new Error(json.error.code + ': ' + json.error.message);
        adjustmentKey = null;
        f.reset();
        return Promise.all([loadAdjustments(), d.loadBalances()]).then(function () {
          d.say('adjustments-status-line', json.partner + ': ' + json.amount + ' ' + json.currency + ' (' + json.kind + ') added.');
        });
      });
    }).catch(function (e) { adjustmentKey = null; d.say('adjustments-status-line', e.message, true); });
  });

  $('adjustments-csv').addEventListener('click', function () {
    d.download('/v1/adjustments.csv', 'adjustments.csv', 'adjustments-status-line');
  });

  window.affiliatePayouts = { load: function () { return Promise.all([load(), loadAdjustments()]); } };
  if (d.key()) {
    load().catch(function (e) { d.say('payouts-status-line', e.message, true); });
    loadAdjustments().catch(function (e) { d.say('adjustments-status-line', e.message, true); });
  }
})();
