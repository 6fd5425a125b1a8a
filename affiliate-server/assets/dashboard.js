// The dashboard: reads /v1/stats with the API key and draws it with Chart.js.
// Amounts arrive as decimal strings per currency; they become numbers only to be drawn.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var charts = {};
  var palette = ['#2f6fde', '#e8590c', '#2b8a3e', '#ae3ec9', '#f59f00', '#0c8599', '#c92a2a'];

  function isoDay(d) { return d.toISOString().slice(0, 10); }

  function setStatus(text, isError) {
    $('status').textContent = text;
    $('status').className = isError ? 'error' : '';
  }

  function fetchStats(key, params) {
    var q = new URLSearchParams(params);
    return fetch('/v1/stats?' + q.toString(), { headers: { Authorization: 'Bearer ' + key } })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) {
            var e = body && body.error ? body.error : { code: String(r.status), message: r.statusText };
            throw new Error(e.code + ': ' + e.message);
          }
          return body.rows;
        });
      });
  }

  function currencies(rows) {
    var set = {};
    rows.forEach(function (r) {
      Object.keys(r.revenue).forEach(function (c) { set[c] = true; });
      Object.keys(r.commission).forEach(function (c) { set[c] = true; });
    });
    return Object.keys(set).sort();
  }

  function amount(map, cur) { return map[cur] ? Number(map[cur]) : 0; }

  function draw(id, type, labels, datasets) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart($(id), {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: 'index', intersect: false },
        scales: { y: { beginAtZero: true } }
      }
    });
  }

  function countSets(rows) {
    return [
      { label: 'clicks', data: rows.map(function (r) { return r.clicks; }), backgroundColor: palette[0], borderColor: palette[0] },
      { label: 'conversions', data: rows.map(function (r) { return r.leads + r.sales; }), backgroundColor: palette[1], borderColor: palette[1] }
    ];
  }

  function moneySets(rows) {
    var sets = [];
    currencies(rows).forEach(function (cur, i) {
      sets.push({ label: 'revenue ' + cur, data: rows.map(function (r) { return amount(r.revenue, cur); }),
        backgroundColor: palette[(2 * i + 2) % palette.length], borderColor: palette[(2 * i + 2) % palette.length] });
      sets.push({ label: 'commission ' + cur, data: rows.map(function (r) { return amount(r.commission, cur); }),
        backgroundColor: palette[(2 * i + 3) % palette.length], borderColor: palette[(2 * i + 3) % palette.length] });
    });
    return sets;
  }

  // One row per day from..to, zeros where nothing happened.
  function fillDays(rows, from, to) {
    var byDay = {};
    rows.forEach(function (r) { byDay[r.day] = r; });
    var out = [];
    var empty = { clicks: 0, unique_clicks: 0, bot_clicks: 0, impressions: 0, leads: 0, sales: 0, revenue: {}, commission: {} };
    for (var d = new Date(from + 'T00:00:00Z'); isoDay(d) <= to; d.setUTCDate(d.getUTCDate() + 1)) {
      var day = isoDay(d);
      out.push(Object.assign({}, empty, byDay[day] || {}, { day: day }));
    }
    return out;
  }

  function money(map) {
    var keys = Object.keys(map);
    return keys.length ? keys.map(function (c) { return map[c] + ' ' + c; }).join(', ') : '0';
  }

  function table(rows) {
    var body = $('partners').tBodies[0];
    body.textContent = '';
    rows.forEach(function (r) {
      var tr = document.createElement('tr');
      [r.partner, r.clicks, r.unique_clicks, r.bot_clicks, r.impressions, r.leads, r.sales, money(r.revenue), money(r.commission)]
        .forEach(function (v) {
          var td = document.createElement('td');
          td.textContent = v === null ? '—' : String(v);
          tr.appendChild(td);
        });
      body.appendChild(tr);
    });
  }

  function load() {
    var key = $('key').value.trim();
    var from = $('from').value, to = $('to').value;
    if (!key) { setStatus('Enter an API key.', true); return; }
    sessionStorage.setItem('affiliate-api-key', key);
    document.body.removeAttribute('data-ready');
    setStatus('Loading…', false);
    var range = { from: from, to: to };
    Promise.all([
      fetchStats(key, Object.assign({ group_by: 'day' }, range)),
      fetchStats(key, Object.assign({ group_by: 'partner' }, range))
    ]).then(function (res) {
      var days = fillDays(res[0], from, to);
      var partners = res[1];
      var labels = days.map(function (r) { return r.day; });
      draw('daily-counts', 'bar', labels, countSets(days));
      draw('daily-money', 'line', labels, moneySets(days));
      var names = partners.map(function (r) { return r.partner === null ? '(none)' : r.partner; });
      draw('partner-counts', 'bar', names, countSets(partners));
      draw('partner-money', 'bar', names, moneySets(partners));
      table(partners);
      var clicks = days.reduce(function (s, r) { return s + r.clicks; }, 0);
      var convs = days.reduce(function (s, r) { return s + r.leads + r.sales; }, 0);
      setStatus(clicks + ' clicks and ' + convs + ' conversions from ' + from + ' to ' + to + '.', false);
      document.body.setAttribute('data-ready', 'true');
    }).catch(function (e) {
      setStatus(e.message, true);
      document.body.setAttribute('data-ready', 'error');
    });
  }

  var today = new Date();
  var start = new Date(today.getTime() - 29 * 86400000);
  $('from').value = isoDay(start);
  $('to').value = isoDay(today);
  // The demo prints /dashboard#key=…: the fragment never reaches a server or its logs.
  var m = /(?:^|[#&])key=([^&]+)/.exec(location.hash);
  if (m) {
    $('key').value = decodeURIComponent(m[1]);
    history.replaceState(null, '', location.pathname);
  } else {
    $('key').value = sessionStorage.getItem('affiliate-api-key') || '';
  }
  $('load').addEventListener('click', load);
  $('key').addEventListener('keydown', function (e) { if (e.key === 'Enter') load(); });
  if ($('key').value) load();
})();
