"""The program from Python: what a shop adds is kept in the store, changed, listed and
exported; bad arguments get typed errors and change nothing."""

from __future__ import annotations

import csv
import io
import pathlib

import pytest

import affiliate_sdk as sdk
from affiliate_sdk import FixedClock, Keyring, SledStore, Tracker

from conftest import BASE


def test_the_program_survives_a_restart_and_is_changed_in_place(
    keys: Keyring, clock: FixedClock, tmp_path: pathlib.Path
) -> None:
    def open_tracker() -> Tracker:
        return Tracker(keys, store=SledStore(tmp_path / "db"), base_url=BASE, clock=clock)

    t = open_tracker()
    t.add_campaign("spring", destination="https://shop.example/spring", currency="USD",
                   sale_percent="10", deep_link_hosts=["shop.example"], approve_after_days=14)
    t.add_partner("ann", name="Ann", email="ann@reviews.example")
    t.add_coupon("ann", "ann-spring", campaign="spring")
    t.add_ad("ann", "banner1", name="Spring banner", media_type="image", starts_on="2026-03-01")
    t.update_partner("ann", payout_details="IBAN DE00", name=None)
    del t  # the shop exits: the sled directory is closed

    t = open_tracker()
    ann = t.partner("ann")
    assert ann is not None
    assert ann["name"] is None and ann["payout_details"] == "IBAN DE00"
    assert ann["coupons"] == [{"code": "ANN-SPRING", "campaign": "spring"}]
    assert ann["managed_by_config"] is False
    spring = t.campaign("spring")
    assert spring is not None
    assert spring["deep_link_hosts"] == ["shop.example"] and spring["approve_after_days"] == 14
    assert [a["code"] for a in t.ads("ann")] == ["banner1"]
    assert t.convert("O-1", amount="20.00", currency="USD", coupon="Ann-Spring").partner == "ann"

    # Suspended: its next click lands uncredited.
    t.update_partner("ann", status="suspended")
    url = t.link("spring", "ann", sid="kw1")
    with pytest.raises(sdk.NotAttributable):
        t.click(url)
    assert t.update_campaign("spring", status="paused")["status"] == "paused"


def test_listing_bulk_status_and_csv(tracker: Tracker) -> None:
    for i in range(5):
        tracker.manual(f"R-{i}", amount="10.00", currency="USD", campaign="haircare",
                       partner="abc123")
    tracker.manual("=1+2", amount="5.00", currency="USD", campaign="haircare", partner="mid1")
    seen = []
    page, cursor = tracker.list_conversions(limit=4)
    seen += [c.order_id for c in page]
    while cursor is not None:
        page, cursor = tracker.list_conversions(limit=4, cursor=cursor)
        seen += [c.order_id for c in page]
    assert sorted(seen) == ["=1+2", "R-0", "R-1", "R-2", "R-3", "R-4"]

    results = tracker.set_statuses(["R-0", "nope", "R-0"], "approved")
    assert results[0] == {"order_id": "R-0", "status": "approved"}
    assert results[1]["error"]["code"] == "not_found"  # type: ignore[index]
    assert results[2]["error"]["code"] == "invalid_transition"  # type: ignore[index]
    approved, _ = tracker.list_conversions(status="approved")
    assert [c.order_id for c in approved] == ["R-0"]

    rows = list(csv.reader(io.StringIO(tracker.conversions_csv(partner="mid1"), newline="")))
    assert rows[0][:4] == ["order_id", "converted_at", "kind", "amount"]
    assert rows[1][0] == "'=1+2" and rows[1][3] == "5.00"
    stats = list(csv.reader(io.StringIO(tracker.stats_csv(["partner"]), newline="")))
    assert stats[0][0] == "partner" and {r[0] for r in stats[1:]} == {"abc123", "mid1"}


def test_partners_pages_and_refusals_change_nothing(tracker: Tracker) -> None:
    for i in range(5):
        tracker.add_partner(f"kid{i}", parent="abc123")
    first, cursor = tracker.list_partners(parent="abc123", limit=3)
    assert [p["code"] for p in first] == ["kid0", "kid1", "kid2"]
    rest, end = tracker.list_partners(parent="abc123", limit=3, cursor=cursor)
    assert [p["code"] for p in rest] == ["kid3", "kid4"] and end is None

    before = tracker.partner("kid0")
    with pytest.raises(sdk.Malformed):
        tracker.update_partner("kid0", parent="kid0")
    with pytest.raises(sdk.Malformed):
        tracker.update_partner("kid0", colour="red")
    with pytest.raises(TypeError):
        tracker.update_partner("kid0", name=1.5)
    with pytest.raises(sdk.UnknownPartner):
        tracker.update_partner("ghost", status="suspended")
    with pytest.raises(sdk.Conflict):
        tracker.add_coupon("kid0", "abc10")
    with pytest.raises(sdk.NotFound):
        tracker.remove_coupon("none-such")
    with pytest.raises(sdk.Malformed):
        tracker.add_ad("kid0", "a1", name="x", media_type="hologram")
    with pytest.raises(sdk.Malformed):
        tracker.list_conversions(limit=0)
    with pytest.raises(sdk.Malformed):
        tracker.set_statuses([], "approved")
    assert tracker.partner("kid0") == before
    assert tracker.partner("ghost") is None


def test_approve_due_approves_past_the_period_once(keys: Keyring, clock: FixedClock) -> None:
    t = Tracker(keys, store=sdk.MemoryStore(), base_url=BASE, clock=clock)
    t.add_campaign("spring", destination="https://shop.example/", currency="USD",
                   sale_percent="10", approve_after_days=14)
    t.add_partner("ann")
    t.manual("A-1", amount="10.00", currency="USD", campaign="spring", partner="ann")
    clock.advance(13 * 86_400)
    assert t.approve_due() == 0
    clock.advance(86_400)
    assert t.approve_due() == 1 and t.approve_due() == 0
    assert t.conversion("A-1").status == "approved"


def test_balances_put_each_beneficiary_on_its_own_row(tracker: Tracker) -> None:
    from decimal import Decimal

    tracker.manual("B-1", amount="100.00", currency="USD", campaign="haircare", partner="abc123")
    tracker.set_status("B-1", "approved")
    rows = {r["partner"]: r for r in tracker.balances()}
    # abc123 earns 10 %, mid1 10 % of that, boss1 5 % of that: each on its own row.
    assert rows["abc123"]["payable"] == Decimal("10.00")
    assert rows["mid1"]["payable"] == Decimal("1.00")
    assert rows["boss1"]["payable"] == Decimal("0.50")
    assert rows["boss1"]["pending"] == Decimal("0.00") and rows["boss1"]["currency"] == "USD"
    assert tracker.balances(partner="mid1", currency="EUR") == []
    with pytest.raises(sdk.Malformed):
        tracker.balances(currency="QQQ")


def test_payouts_are_made_once_per_key_paid_and_exported(tracker: Tracker) -> None:
    import datetime
    from decimal import Decimal

    tracker.manual("Y-1", amount="100.00", currency="USD", campaign="haircare", partner="abc123")
    tracker.set_status("Y-1", "approved")
    made = tracker.create_payouts("USD", idempotency_key="run-1", min_amount=Decimal("0.75"))
    # boss1's 0.50 waits for a later run; the others are paid.
    assert [(p["partner"], p["amount"], p["status"]) for p in made] == [
        ("abc123", Decimal("10.00"), "pending"),
        ("mid1", Decimal("1.00"), "pending"),
    ]
    assert isinstance(made[0]["created"], datetime.datetime)
    assert tracker.create_payouts("USD", idempotency_key="run-1", min_amount="0.75") == made
    with pytest.raises(sdk.Conflict):
        tracker.create_payouts("USD", idempotency_key="run-1")
    one = tracker.payout(made[0]["id"])
    assert one["items"] == [{"order_id": "Y-1", "level": 0, "kind": "commission", "amount": Decimal("10.00")}]
    assert tracker.set_payout_status(made[0]["id"], "paid")["status"] == "paid"
    assert tracker.set_payout_status(made[1]["id"], "failed")["status"] == "failed"
    with pytest.raises(sdk.InvalidTransition):
        tracker.set_payout_status(made[1]["id"], "paid")
    with pytest.raises(sdk.NotFound):
        tracker.payout("po_missing")
    assert [p["partner"] for p in tracker.payouts(status="paid")] == ["abc123"]
    rows = {r["partner"]: r for r in tracker.balances()}
    assert rows["abc123"]["paid"] == Decimal("10.00") and rows["mid1"]["payable"] == Decimal("1.00")
    csv = tracker.payouts_csv(currency="USD")
    assert csv.splitlines()[0] == "id,partner,name,payout_details,currency,amount,entries,status,created,updated"
    assert len(csv.splitlines()) == 3


def test_bad_payout_arguments_raise_and_change_nothing(tracker: Tracker) -> None:
    tracker.manual("Z-1", amount="100.00", currency="USD", campaign="haircare", partner="abc123")
    tracker.set_status("Z-1", "approved")
    before = tracker.balances()
    with pytest.raises(sdk.Malformed):
        tracker.create_payouts("XYZ", idempotency_key="k")
    with pytest.raises(sdk.Malformed):
        tracker.create_payouts("USD", idempotency_key="k", min_amount="-1")
    with pytest.raises(TypeError):
        tracker.create_payouts("USD", idempotency_key="k", min_amount=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tracker.create_payouts("USD", idempotency_key="k", up_to=3)  # type: ignore[arg-type]
    with pytest.raises(sdk.Malformed):
        tracker.create_payouts("USD", idempotency_key="")
    with pytest.raises(sdk.UnknownPartner):
        tracker.create_payouts("USD", idempotency_key="k", partner="ghost")
    with pytest.raises(sdk.Malformed):
        tracker.payouts(status="lost")
    assert tracker.balances() == before and tracker.payouts() == []


def test_deep_links_land_on_allowed_hosts_only(tracker: Tracker) -> None:
    from urllib.parse import quote

    tracker.add_campaign("deep", destination="https://shop.example/home", currency="USD",
                         sale_percent="10", deep_link_hosts=["shop.example", "*.cdn.example"])
    tracker.add_partner("dee")
    url = tracker.link("deep", "dee", to="https://Shop.Example/p/42?c=red")
    assert "&to=https%3A%2F%2Fshop.example%2Fp%2F42%3Fc%3Dred" in url
    click = tracker.click(url)
    assert click.location.startswith("https://shop.example/p/42?c=red&aff_token=v1.")
    assert click.refused_to is None
    # A target off the list, however it is spelled, lands on the destination.
    plain = tracker.link("deep", "dee")
    for evil in ["https://evil.example/", "https://shop.example@evil.example/", "//evil.example",
                 "https:\\\\evil.example", "javascript:alert(1)"]:
        click = tracker.click(plain + "&to=" + quote(evil, safe=""))
        assert click.location.startswith("https://shop.example/home?aff_token=v1."), evil
        assert click.refused_to is not None and "to" in click.refused_to, evil
    with pytest.raises(sdk.Malformed, match="deep_link_hosts"):
        tracker.link("deep", "dee", to="https://evil.example/")
    with pytest.raises(sdk.Malformed):
        tracker.link("deep", "dee", to="not a url")


def test_postback_keys_record_a_hosted_carts_conversion_and_nothing_else(tracker: Tracker) -> None:
    record, key = tracker.create_postback_key("Hosted cart")
    assert key.startswith("pbk_") and record["id"].startswith("pbkid_")
    assert record["label"] == "Hosted cart"
    assert tracker.postback_keys() == [record]
    assert key not in repr(tracker.postback_keys())

    query = f"key={key}&order_id=CART-1&amount=49.90&currency=USD&coupon=ABC10"
    conv = tracker.postback(query)
    assert (conv.partner, str(conv.amount), conv.duplicate) == ("abc123", "49.90", False)
    assert tracker.postback(query).duplicate
    # The key first: without a valid one, even a malformed query is Forbidden.
    for bad in ["order_id=CART-2&amount=1&currency=USD", "key=pbk_nope&order_id=CART-2&evil=1"]:
        with pytest.raises(sdk.Forbidden):
            tracker.postback(bad)
    # Its own code since the core decides the HTTP answer (401): still a Forbidden.
    with pytest.raises(sdk.Unauthorized, match="missing key"):
        tracker.postback("order_id=CART-2&amount=1&currency=USD")
    with pytest.raises(sdk.Malformed, match="more than once"):
        tracker.postback(f"key={key}&order_id=CART-2&amount=1&amount=2&currency=USD")
    tracker.revoke_postback_key(record["id"])
    with pytest.raises(sdk.Forbidden):
        tracker.postback(query.replace("CART-1", "CART-3"))
    with pytest.raises(sdk.NotFound):
        tracker.revoke_postback_key(record["id"])
    assert tracker.postback_keys() == []
    for order in ["CART-2", "CART-3"]:
        with pytest.raises(sdk.NotFound):
            tracker.conversion(order)
