"""Portal sign-in links made in Python are accepted, once, by an affiliate-server that
shares the keys (the binary `cargo test` built, or AFFILIATE_SERVER_BIN)."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Iterator, Tuple

import pytest
from conftest import affiliate_server

import affiliate_sdk as sdk



class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def fetch(url: str, cookie: str = "") -> Tuple[int, dict]:
    opener = urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()} | {"body": r.read().decode()}
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()} | {"body": e.read().decode()}


@pytest.fixture
def server() -> Iterator[Tuple[str, sdk.Keyring]]:
    keys = sdk.Keyring.generate()
    key_lines = "\n".join(f'{kid} = "{k}"' for kid, k in keys.export_keys().items())
    with affiliate_server(f'''
[server]
listen = "127.0.0.1:0"
public_url = "http://127.0.0.1"
data_dir = "data"
api_keys = ["python-portal-test-key-0123"]

[keys]
current = "{keys.current}"
{key_lines}

[[campaign]]
code = "haircare"
destination = "https://shop.example/"
currency = "USD"
sale_percent = "10"

[[partner]]
code = "abc123"
''') as base:
        yield base, keys


def test_a_python_portal_link_signs_the_partner_in_once(server: Tuple[str, sdk.Keyring]) -> None:
    base, keys = server
    tracker = sdk.Tracker(keys, store=sdk.MemoryStore(), base_url=base + "/go")
    tracker.add_campaign("haircare", destination="https://shop.example/", currency="USD", sale_percent="10")
    tracker.add_partner("abc123")
    url = tracker.portal_link("abc123", ttl_secs=120)
    assert url.startswith(base + "/portal/login?t=pl1.abc123.")
    status, headers = fetch(url)
    assert status == 303 and headers["location"] == "/portal", headers
    session = headers["set-cookie"].split(";")[0]
    assert session.startswith("aff_portal=")
    status, headers = fetch(base + "/v1/partner/me", cookie=session)
    assert status == 200 and '"code":"abc123"' in headers["body"]
    status, headers = fetch(url)
    assert headers["location"] == "/portal?error=forbidden", "a link works once"
    with pytest.raises(sdk.Malformed):
        tracker.portal_link("abc123", ttl_secs=0)
    with pytest.raises(sdk.UnknownPartner):
        tracker.portal_link("ghost")


def test_partner_keys_are_made_shown_once_and_revoked() -> None:
    tracker = sdk.Tracker(sdk.Keyring.generate(), store=sdk.MemoryStore(), base_url="https://t.example/go")
    tracker.add_partner("abc123")
    made = tracker.create_partner_key("abc123")
    assert made["key"].startswith("pk_") and len(made["key"]) == 46
    assert made["partner"] == "abc123" and made["id"].startswith("pkid_")
    tracker.revoke_partner_key("abc123", made["id"])
    with pytest.raises(sdk.NotFound):
        tracker.revoke_partner_key("abc123", made["id"])
