"""The Flask shop, through Flask's test client: click or landing, the server-set
cookie, and checkout converting exactly once."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Iterator, Tuple

import pytest
from flask.testing import FlaskClient

from affiliate_sdk import FixedClock, Keyring, LinkSigner, MemoryStore, Tracker
from shop import create_app

T0 = 1_700_000_000
DAY = 86_400
WINDOW = 28 * DAY
BASE = "http://localhost/go"


@pytest.fixture
def shop() -> Iterator[Tuple[FlaskClient, Tracker, LinkSigner, FixedClock]]:
    keys = Keyring.generate()
    clock = FixedClock(T0)
    tracker = Tracker(keys, store=MemoryStore(), base_url=BASE, clock=clock)
    tracker.add_campaign("haircare", destination="http://localhost/products/shampoo",
                         currency="USD", cookie_days=28, sale_percent="10")
    tracker.add_partner("abc123")
    app = create_app(tracker)
    app.testing = True
    yield app.test_client(), tracker, LinkSigner(keys, BASE), clock


def max_age(set_cookie: str) -> int:
    m = re.search(r"Max-Age=(\d+)", set_cookie)
    assert m, set_cookie
    return int(m.group(1))


def test_a_click_on_the_shop_sets_the_cookie_and_checkout_credits_the_partner(
    shop: Tuple[FlaskClient, Tracker, LinkSigner, FixedClock],
) -> None:
    client, tracker, signer, clock = shop
    url = signer.build("haircare", "abc123", sid="kw1")
    r = client.get(url.removeprefix("http://localhost"))
    assert r.status_code == 302
    assert r.headers["Location"].startswith("http://localhost/products/shampoo?aff_token=v1.")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and max_age(cookie) == WINDOW
    # The landing page strips the token from the URL (the cookie is already set).
    landing = client.get(r.headers["Location"].removeprefix("http://localhost"))
    assert landing.status_code == 302 and landing.headers["Location"] == "/products/shampoo"
    clock.advance(3600)
    order = client.post("/checkout", data={"order_id": "A-1001", "sku": "shampoo"})
    assert order.get_json() == {
        "order_id": "A-1001",
        "total": "12.90",
        "affiliate": {"partner": "abc123", "commission": "1.29", "duplicate": False},
    }
    # A double submit is the same order, recorded once.
    again = client.post("/checkout", data={"order_id": "A-1001", "sku": "shampoo"})
    assert again.get_json()["affiliate"]["duplicate"] is True
    row = tracker.stats(["partner", "sid"])[0]
    assert (row["partner"], row["sid"], row["clicks"], row["sales"]) == ("abc123", "kw1", 1, 1)
    assert row["revenue"] == {"USD": Decimal("12.90")}


def test_a_landing_from_another_tracker_gets_the_full_window_from_the_server(
    shop: Tuple[FlaskClient, Tracker, LinkSigner, FixedClock],
) -> None:
    client, tracker, signer, clock = shop
    # The click happened at a tracker on another site, which sent the visitor here.
    token = tracker.click(signer.build("haircare", "abc123")).token
    clock.advance(600)
    r = client.get(f"/products/shampoo?aff_token={token}&color=red")
    assert r.status_code == 302
    assert r.headers["Location"] == "/products/shampoo?color=red"
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"aff_token={token};") and "HttpOnly" in cookie
    # The server's cookie runs to the token's expiry: the whole 28 days, not Safari's 7
    # for a script's cookie.
    assert max_age(cookie) == WINDOW - 600 > 7 * DAY
    assert client.get_cookie("aff_token") is not None
    order = client.post("/checkout", data={"order_id": "B-1", "sku": "brush"})
    assert order.get_json()["affiliate"] == {
        "partner": "abc123", "commission": "2.40", "duplicate": False,
    }


def test_forged_tokens_and_links_credit_nobody_and_the_sale_still_stands(
    shop: Tuple[FlaskClient, Tracker, LinkSigner, FixedClock],
) -> None:
    client, tracker, signer, clock = shop
    token = tracker.click(signer.build("haircare", "abc123")).token
    assert token is not None
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    # The page is served as asked, and no cookie is set.
    r = client.get(f"/products/shampoo?aff_token={forged}")
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    tampered = signer.build("haircare", "abc123").replace("abc123", "abc124")
    assert client.get(tampered.removeprefix("http://localhost")).status_code == 404
    order = client.post("/checkout", data={"order_id": "C-1", "sku": "shampoo"})
    assert order.status_code == 200 and order.get_json()["affiliate"] == {"partner": None}
    # A cookie planted by hand is verified at checkout too.
    client.set_cookie("aff_token", forged)
    planted = client.post("/checkout", data={"order_id": "C-2", "sku": "shampoo"})
    assert planted.get_json()["affiliate"] == {"partner": None, "refused": "invalid_signature"}
    assert client.post("/checkout", data={"sku": "nope"}).status_code == 400
    assert tracker.stats()[0]["sales"] == 0


def test_an_expired_cookie_credits_nobody(
    shop: Tuple[FlaskClient, Tracker, LinkSigner, FixedClock],
) -> None:
    client, tracker, signer, clock = shop
    client.get(signer.build("haircare", "abc123").removeprefix("http://localhost"))
    clock.advance(WINDOW + 61)
    order = client.post("/checkout", data={"order_id": "D-1", "sku": "shampoo"})
    assert order.get_json()["affiliate"] == {"partner": None, "refused": "expired"}
    assert client.get("/products/shampoo").status_code == 200
    assert client.get("/products/nothing").status_code == 404
