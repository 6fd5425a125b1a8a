"""affiliate-server's `/metrics`, read with the OpenMetrics parser of `prometheus_client`
(PyPI), a library this project did not write: it parses, and its counters match the
traffic sent. `/readyz` answers 200 on a healthy store."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from typing import Dict, Optional, Tuple

from prometheus_client.openmetrics.parser import text_string_to_metric_families

from affiliate_sdk import Keyring, LinkSigner
from conftest import affiliate_server

KEY = "python-metrics-test-key-0123"
SIGNING_KEY = base64.urlsafe_b64encode(b"m" * 32).decode().rstrip("=")
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

CONFIG = f'''
[server]
listen = "127.0.0.1:0"
public_url = "http://127.0.0.1"
data_dir = "data"
api_keys = ["{KEY}"]

[keys]
current = "k1"
k1 = "{SIGNING_KEY}"

[[campaign]]
code = "haircare"
destination = "https://shop.example/"
currency = "USD"
sale_percent = "10"

[[partner]]
code = "abc123"
'''


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def call(base: str, path: str, *, method: str = "GET", body: object = None,
         headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        with OPENER.open(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def samples(text: str) -> Dict[Tuple[str, Tuple[Tuple[str, str], ...]], float]:
    """Every sample of the exposition by (name, labels)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_parse_and_count_the_traffic_sent() -> None:
    keys = Keyring({"k1": SIGNING_KEY}, current="k1")
    with affiliate_server(CONFIG) as base:
        link = LinkSigner(keys, base + "/go").build("haircare", "abc123").removeprefix(base)
        auth = {"Authorization": f"Bearer {KEY}"}
        assert call(base, "/readyz")[0] == 200
        # Without the API key, no metrics.
        assert call(base, "/metrics")[0] == 401
        # 3 people's clicks, 1 bot's, 2 refused (a forged link, an unknown campaign).
        for _ in range(3):
            assert call(base, link, headers={"User-Agent": BROWSER})[0] == 302
        assert call(base, link, headers={"User-Agent": "Slackbot-LinkExpanding 1.0"})[0] == 302
        assert call(base, link.replace("abc123", "abc124"), headers={"User-Agent": BROWSER})[0] == 302
        assert call(base, "/go/nope/abc123?sig=k1.x", headers={"User-Agent": BROWSER})[0] == 404
        # 2 conversions and a replay, by postback; one refused.
        sale = {"order_id": "M-1", "amount": "10.00", "currency": "USD", "campaign": "haircare"}
        manual = dict(sale, partner="abc123")
        assert call(base, "/v1/conversions/manual", method="POST", body=manual, headers=auth)[0] == 201
        assert call(base, "/v1/conversions/manual", method="POST", body=manual, headers=auth)[0] == 200
        manual2 = dict(manual, order_id="M-2")
        assert call(base, "/v1/conversions/manual", method="POST", body=manual2, headers=auth)[0] == 201
        assert call(base, "/v1/postback", method="POST", body=dict(sale, order_id="M-3"),
                    headers=auth)[0] == 422

        status, headers, body = call(base, "/metrics", headers=auth)
        assert status == 200
        assert headers["content-type"].startswith("application/openmetrics-text")
        got = samples(body.decode())
        assert got[("affiliate_clicks_total", (("result", "click"),))] == 3
        assert got[("affiliate_clicks_total", (("result", "bot"),))] == 1
        assert got[("affiliate_clicks_total", (("result", "refused"),))] == 2
        refusals = {labels: v for (name, labels), v in got.items() if name == "affiliate_refusals_total"}
        assert refusals == {
            (("code", "invalid_signature"), ("kind", "click")): 1,
            (("code", "unknown_campaign"), ("kind", "click")): 1,
            (("code", "not_attributable"), ("kind", "conversion")): 1,
        }
        assert got[("affiliate_conversions_total", (("channel", "manual"), ("result", "created")))] == 2
        assert got[("affiliate_conversions_total", (("channel", "manual"), ("result", "duplicate")))] == 1
        assert got[("affiliate_ready", ())] == 1
        assert got[("affiliate_store_failing", ())] == 0
        assert ("affiliate_click_buffer_bytes", ()) in got
        # The conversions' events wait in the outbox (no endpoint takes them here) or
        # were fanned out already: never negative, never more than the events made.
        assert 0 <= got[("affiliate_outbox_events", ())] <= 2

        # The click writer's batch writes: a histogram whose count is every attempt.
        deadline = time.monotonic() + 10
        while True:
            got = samples(call(base, "/metrics", headers=auth)[2].decode())
            writes = sum(v for (name, labels), v in got.items() if name == "affiliate_store_writes_total")
            if writes >= 1 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert writes >= 1, "the clicks were never written"
        assert got[("affiliate_store_write_seconds_count", ())] == writes
        buckets = sorted(
            (float(dict(labels)["le"]), v)
            for (name, labels), v in got.items()
            if name == "affiliate_store_write_seconds_bucket"
        )
        assert len(buckets) == 11 and buckets[-1] == (float("inf"), writes)
        assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), buckets
        assert 0 < got[("affiliate_store_write_seconds_sum", ())] < 10 * writes
