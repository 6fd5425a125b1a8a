"""The webhooks an affiliate-server sends verify with `standardwebhooks` (PyPI), a
Standard Webhooks library this project did not write; the receiver runs here on
127.0.0.1 (the binary `cargo test` built, or AFFILIATE_SERVER_BIN)."""

from __future__ import annotations

import base64
import http.server
import json
import os
import threading
import time
import urllib.request
from typing import Dict, Iterator, List, Tuple

import pytest
from conftest import affiliate_server
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

KEY = "python-webhook-test-key-0123"
SIGNING_KEY = base64.urlsafe_b64encode(b"k" * 32).decode().rstrip("=")

Received = Tuple[str, str, Dict[str, str], bytes]


class Receiver(http.server.BaseHTTPRequestHandler):
    got: List[Received] = []

    def _record(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        Receiver.got.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    do_POST = _record
    do_GET = _record

    def log_message(self, *args: object) -> None:
        pass


def api(base: str, method: str, path: str, body: object = None) -> Tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {KEY}", "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


@pytest.fixture
def setup() -> Iterator[Tuple[str, str, str]]:
    Receiver.got = []
    rx = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=rx.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{rx.server_address[1]}"
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    try:
        with affiliate_server(f'''
[server]
listen = "127.0.0.1:0"
public_url = "http://127.0.0.1"
data_dir = "data"
api_keys = ["{KEY}"]

[keys]
current = "k1"
k1 = "{SIGNING_KEY}"

[events]
allow_private_destinations = true

[[webhook]]
id = "crm"
url = "{hook_url}/crm"
secret = "{secret}"
events = ["conversion.created", "conversion.updated"]

[[campaign]]
code = "haircare"
destination = "https://shop.example/"
currency = "USD"
sale_percent = "10"

[[partner]]
code = "abc123"
''') as base:
            yield base, hook_url, secret
    finally:
        rx.shutdown()


def wait_for(n: int, timeout: float = 10.0) -> List[Received]:
    end = time.time() + timeout
    while len(Receiver.got) < n and time.time() < end:
        time.sleep(0.05)
    return list(Receiver.got)


def test_webhooks_verify_with_the_standard_webhooks_library(setup: Tuple[str, str, str]) -> None:
    base, hook_url, secret = setup
    # A second endpoint made through the API, with the secret it answers once.
    status, made = api(base, "POST", "/v1/webhooks", {"id": "erp", "url": hook_url + "/erp", "events": ["payout.created"]})
    assert status == 201, made
    assert made["secret"].startswith("whsec_")
    sale = {"order_id": "PY-1", "amount": "80.00", "currency": "USD", "kind": "sale",
            "campaign": "haircare", "partner": "abc123"}
    assert api(base, "POST", "/v1/conversions/manual", sale)[0] == 201
    assert api(base, "POST", "/v1/conversions/status", {"order_ids": ["PY-1"], "status": "approved"})[0] == 200
    req = urllib.request.Request(base + "/v1/payouts", data=json.dumps({"currency": "USD"}).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {KEY}", "content-type": "application/json",
                                          "Idempotency-Key": "py-run-1"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 201
    got = wait_for(3)
    assert len(got) == 3, got
    by_path: Dict[str, List[Tuple[Dict[str, str], bytes]]] = {}
    for method, path, headers, body in got:
        assert method == "POST"
        by_path.setdefault(path, []).append((headers, body))
    crm = Webhook(secret)
    types = []
    for headers, body in by_path["/crm"]:
        event = crm.verify(body, headers)
        assert event["data"]["order_id"] == "PY-1"
        types.append(event["type"])
        # A changed body or another secret does not verify.
        with pytest.raises(WebhookVerificationError):
            crm.verify(body.replace(b"80.00", b"99.00"), headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(made["secret"]).verify(body, headers)
    assert sorted(types) == ["conversion.created", "conversion.updated"]
    [(headers, body)] = by_path["/erp"]
    event = Webhook(made["secret"]).verify(body, headers)
    assert event["type"] == "payout.created" and event["data"]["amount"] == "8.00"
    assert headers["webhook-id"].startswith("msg_")


def test_webhook_endpoints_from_python() -> None:
    import affiliate_sdk as sdk

    tracker = sdk.Tracker(sdk.Keyring.generate(), store=sdk.MemoryStore(), base_url="https://t.example/go")
    with pytest.raises(sdk.Forbidden):
        tracker.create_webhook("http://127.0.0.1:9/h")
    with pytest.raises(sdk.Malformed):
        tracker.create_webhook("https://hooks.example/", events=["conversion.deleted"])
    tracker.allow_private_destinations(True)
    made = tracker.create_webhook("http://127.0.0.1:9/h", id="crm", events=["conversion.created"], description="CRM")
    assert made["secret"].startswith("whsec_") and made["events"] == ["conversion.created"]
    listed = tracker.webhooks()
    assert [w["id"] for w in listed] == ["crm"] and "secret" not in listed[0]
    with pytest.raises(sdk.Conflict):
        tracker.create_webhook("http://127.0.0.1:9/h", id="crm")
    tracker.add_campaign("haircare", destination="https://shop.example/", currency="USD", sale_percent="10")
    tracker.add_partner("abc123")
    log = tracker.webhook_deliveries("crm")
    assert log == {"deliveries": [], "next_cursor": None}
    # A sale: its event waits in the outbox until fanned out into a delivery.
    tracker.manual("PY-9", amount="10.00", currency="USD", campaign="haircare", partner="abc123")
    assert tracker.webhook_deliveries("crm")["deliveries"] == []
    assert tracker.fan_out() == 1
    [d] = tracker.webhook_deliveries("crm")["deliveries"]
    assert d["event"] == "conversion.created" and d["state"] == "pending" and d["message_id"].startswith("msg_")
    assert tracker.retry_delivery("crm", d["id"])["state"] == "pending"
    assert tracker.fan_out() == 0
    with pytest.raises(sdk.Malformed):
        tracker.webhook_deliveries("crm", limit=0)
    with pytest.raises(sdk.NotFound):
        tracker.retry_delivery("crm", "dlv_nope")
    tracker.delete_webhook("crm")
    with pytest.raises(sdk.NotFound):
        tracker.delete_webhook("crm")
    assert tracker.webhooks() == []


def test_a_python_tracker_delivers_its_webhooks_through_its_own_http_client() -> None:
    """No server: `run_housekeeping(send=…)` fans out the outbox and sends each webhook
    through the shop's own HTTP client (urllib here), signed per Standard Webhooks."""
    import affiliate_sdk as sdk

    Receiver.got = []
    rx = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=rx.serve_forever, daemon=True).start()
    try:
        keys = sdk.Keyring({"k1": SIGNING_KEY}, current="k1")
        tracker = sdk.Tracker(keys, store=sdk.MemoryStore(), base_url="https://t.shop.example/go")
        tracker.add_campaign("haircare", destination="https://shop.example/", currency="USD", sale_percent="10")
        tracker.add_partner("abc123")
        tracker.allow_private_destinations(True)
        hook = tracker.create_webhook(f"http://127.0.0.1:{rx.server_address[1]}/hooks", events=["conversion.created"])
        tracker.manual("PY-1", amount="49.90", currency="USD", campaign="haircare", partner="abc123")

        calls: List[Tuple[str, str]] = []

        def send(method: str, url: str, headers: List[Tuple[str, str]], body: object) -> int:
            calls.append((method, url))
            data = body.encode() if isinstance(body, str) else None
            req = urllib.request.Request(url, data=data, method=method, headers=dict(headers))
            with urllib.request.urlopen(req, timeout=10) as r:
                return int(r.status)

        done = tracker.run_housekeeping(send=send)
        assert (done["fanned_out"], done["sent"], done["delivered"], done["failed"]) == (1, 1, 1, [])
        assert calls == [("POST", hook["url"])]
        method, path, headers, body = Receiver.got[0]
        assert (method, path) == ("POST", "/hooks")
        event = Webhook(hook["secret"]).verify(body, headers)
        assert event["type"] == "conversion.created" and event["data"]["order_id"] == "PY-1"
        # Sent once: the next round finds nothing due.
        again = tracker.run_housekeeping(send=send)
        assert (again["sent"], len(Receiver.got)) == (0, 1)

        # A client that answers no status, or raises, is an attempt that failed.
        tracker.manual("PY-2", amount="10.00", currency="USD", campaign="haircare", partner="abc123")

        def broken(method: str, url: str, headers: List[Tuple[str, str]], body: object) -> int:
            raise OSError("no route to host")

        done = tracker.run_housekeeping(send=broken)
        assert (done["sent"], done["delivered"]) == (1, 0)
        log = tracker.webhook_deliveries(hook["id"])["deliveries"]
        failed = [d for d in log if d["state"] == "pending" and d["attempts"] == 1]
        assert failed and "no route to host" in failed[0]["last_attempts"][0]["error"]
        with pytest.raises(TypeError, match="callable"):
            tracker.run_housekeeping(send="http://example")  # type: ignore[arg-type]
    finally:
        rx.shutdown()
