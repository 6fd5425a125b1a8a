// The dashboard's webhooks view: add an endpoint (its signing secret is shown once),
// remove one, read an endpoint's delivery log and send a delivery again. Every
// decision is the server's; this page calls the merchant API with the key.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var d = window.affiliateDashboard;

  function time(secs) { return secs ? new Date(secs * 1000).toISOString().slice(0, 19).replace('T', ' ') : null; }
  function fail(e) { d.say('webhooks-status-line', e.message, true); }

  function hookRow(w) {
    var tr = document.createElement('tr');
    tr.dataset.webhook = w.id;
    d.cell(tr, w.id, 'text');
    d.cell(tr, w.url, 'text url');
    d.cell(tr, w.events.length === 5 ? 'all' : w.events.join(', '), 'text');
    d.cell(tr, w.managed_by_config ? 'config' : 'API', 'text');
    var actions = d.cell(tr, '', 'text');
    actions.textContent = '';
    d.button(actions, 'Deliveries', function () { deliveries(w.id).catch(fail); }).className = 'log';
    if (!w.managed_by_config) {
      d.button(actions, 'Remove', function () { remove(w.id); }).className = 'remove';
    }
    return tr;
  }

  function load() {
    return d.api('GET', '/v1/webhooks').then(function (r) {
      var body = $('webhooks').tBodies[0];
      body.textContent = '';
      r.webhooks.forEach(function (w) { body.appendChild(hookRow(w)); });
    });
  }

  function deliveryRow(hook, x) {
    var tr = document.createElement('tr');
    tr.dataset.delivery = x.id;
    var last = x.last_attempts.length ? x.last_attempts[x.last_attempts.length - 1] : null;
    d.cell(tr, time(x.created), 'text');
    d.cell(tr, x.event, 'text');
    d.cell(tr, x.state, 'text state');
    d.cell(tr, x.attempts);
    d.cell(tr, last ? (last.status || '') + (last.error ? ' ' + last.error : '') : null, 'text last');
    d.cell(tr, time(x.next_at), 'text');
    var actions = d.cell(tr, '', 'text');
    actions.textContent = '';
    d.button(actions, 'Send again', function () { retry(hook, x.id); }).className = 'retry';
    return tr;
  }

  function deliveries(hook) {
    return d.api('GET', '/v1/webhooks/' + encodeURIComponent(hook) + '/deliveries?limit=100').then(function (r) {
      $('deliveries-of').textContent = hook;
      var body = $('deliveries').tBodies[0];
      body.textContent = '';
      r.deliveries.forEach(function (x) { body.appendChild(deliveryRow(hook, x)); });
      $('deliveries-view').hidden = false;
    });
  }

  function retry(hook, id) {
    d.api('POST', '/v1/webhooks/' + encodeURIComponent(hook) + '/deliveries/' + encodeURIComponent(id) + '/retry')
      .then(function () {
        d.say('webhooks-status-line', 'Sent again.');
        return deliveries(hook);
      })
      .catch(fail);
  }

  function remove(id) {
    d.api('DELETE', '/v1/webhooks/' + encodeURIComponent(id)).then(function () {
      d.say('webhooks-status-line', 'Webhook ' + id + ' removed.');
      if ($('deliveries-of').textContent === id) $('deliveries-view').hidden = true;
      return load();
    }).catch(fail);
  }

  $('new-webhook').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target, body = { url: f.url.value.trim() };
    var events = Array.prototype.filter.call(f.querySelectorAll('input[name=event]'), function (c) { return c.checked; })
      .map(function (c) { return c.value; });
    if (events.length) body.events = events;
    if (f.description.value.trim()) body.description = f.description.value.trim();
    d.api('POST', '/v1/webhooks', body).then(function (w) {
      f.reset();
      $('webhook-secret').value = w.secret;
      $('webhook-secret-line').hidden = false;
      d.say('webhooks-status-line', 'Webhook ' + w.id + ' added. Copy its signing secret now: it is not shown again.');
      return load();
    }).catch(fail);
  });

  window.affiliateWebhooks = { load: load, deliveries: deliveries };
  if (d.key()) load().catch(fail);
})();
