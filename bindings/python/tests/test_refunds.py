"""Refunds from Python: part of an order given back, each beneficiary's share clawed
back (rounded down per level), a replay changing nothing, the whole amount reversing
the conversion, bad arguments refused with typed errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

import affiliate_sdk as sdk
from affiliate_sdk import Tracker


def test_a_partial_refund_claws_back_each_share_and_the_rest_reverses(tracker: Tracker) -> None:
    tracker.manual("R-1", amount="100.00", currency="USD", campaign="haircare", partner="abc123")
    tracker.set_status("R-1", "approved")
    before = {r["partner"]: r for r in tracker.balances()}
    assert before["abc123"]["payable"] == Decimal("10.00")
    c = tracker.refund("R-1", refund_id="re_1", amount=Decimal("30.00"))
    assert (c.refunded, c.net_amount, c.status, c.duplicate) == (
        Decimal("30.00"), Decimal("70.00"), "approved", False)
    owed = {r["partner"]: r["clawback"] for r in tracker.balances()}
    # 10 % of the sale for abc123, 10 % of that for mid1, 5 % for boss1: 30 % given back.
    assert owed == {"abc123": Decimal("3.00"), "mid1": Decimal("0.30"), "boss1": Decimal("0.15")}
    # The same refund id and amount: a replay that changes nothing.
    again = tracker.refund("R-1", refund_id="re_1", amount="30.00")
    assert again.duplicate and again.refunded == Decimal("30.00")
    with pytest.raises(sdk.Conflict):
        tracker.refund("R-1", refund_id="re_1", amount="31.00")
    # More than remains, or nothing: refused, nothing changes.
    for bad in ["70.01", "0", "-1", "abc"]:
        with pytest.raises(sdk.Malformed):
            tracker.refund("R-1", refund_id="re_2", amount=bad)
    assert tracker.conversion("R-1").refunded == Decimal("30.00")
    # The rest: reversed, and nothing is owed to anyone.
    done = tracker.refund("R-1", refund_id="re_2", amount="70.00")
    assert (done.status, done.net_amount) == ("reversed", Decimal("0.00"))
    assert tracker.balances() == []
    with pytest.raises(sdk.InvalidTransition):
        tracker.refund("R-1", refund_id="re_3", amount="1.00")
    with pytest.raises(sdk.NotFound):
        tracker.refund("nope", refund_id="re_1", amount="1.00")
    assert done.to_dict()["refunds"] == [
        {"refund_id": "re_1", "amount": "30.00", "at": done.to_dict()["refunds"][0]["at"]},
        {"refund_id": "re_2", "amount": "70.00", "at": done.to_dict()["refunds"][1]["at"]},
    ]


def test_a_run_says_whom_it_passes_over(tracker: Tracker) -> None:
    tracker.manual("S-1", amount="100.00", currency="USD", campaign="haircare", partner="abc123")
    tracker.set_status("S-1", "approved")
    made = tracker.create_payouts("USD", idempotency_key="run-1", min_amount="5.00")
    assert [p["partner"] for p in made] == ["abc123"]
    skips = tracker.payout_skips("USD", min_amount="5.00")
    assert skips == [
        {"partner": "boss1", "currency": "USD", "amount": Decimal("0.50"), "reason": "below_minimum"},
        {"partner": "mid1", "currency": "USD", "amount": Decimal("1.00"), "reason": "below_minimum"},
    ]
    # Reversed after the payout: abc123 owes its 10.00 back.
    tracker.set_status("S-1", "reversed")
    owes = [s for s in tracker.payout_skips("USD") if s["partner"] == "abc123"]
    assert owes == [{"partner": "abc123", "currency": "USD", "amount": Decimal("-10.00"), "reason": "owes_back"}]
    with pytest.raises(sdk.Malformed):
        tracker.payout_skips("QQQ")


def test_adjustments_add_and_take_back_and_replay(tracker: Tracker) -> None:
    a = tracker.adjust("abc123", currency="USD", amount="50.00", memo="March contest",
                       kind="bonus", idempotency_key="c-1")
    assert (a["amount"], a["state"], a["replayed"], a["kind"]) == (
        Decimal("50.00"), "payable", False, "bonus")
    assert a["id"].startswith("adj_")
    again = tracker.adjust("abc123", currency="USD", amount="50.00", memo="March contest",
                           kind="bonus", idempotency_key="c-1")
    assert again["replayed"] and again["id"] == a["id"]
    # Taking back more than it is owed: refused unless allowed.
    with pytest.raises(sdk.Conflict):
        tracker.adjust("abc123", currency="USD", amount=Decimal("-60.00"), memo="double count",
                       kind="correction", idempotency_key="c-2")
    tracker.adjust("abc123", currency="USD", amount=Decimal("-20.00"), memo="double count",
                   kind="correction", idempotency_key="c-3")
    row = {r["partner"]: r for r in tracker.balances()}["abc123"]
    assert (row["payable"], row["clawback"]) == (Decimal("50.00"), Decimal("20.00"))
    listed = tracker.adjustments(partner="abc123")
    assert sorted(x["memo"] for x in listed) == ["March contest", "double count"]
    assert {x["amount"] for x in listed} == {Decimal("50.00"), Decimal("-20.00")}
    with pytest.raises(sdk.Malformed):
        tracker.adjust("abc123", currency="USD", amount="1.00", memo="m", kind="gift",
                       idempotency_key="c-4")
    with pytest.raises(sdk.Malformed):
        tracker.adjust("abc123", currency="USD", amount="-1.00", memo="m", kind="bonus",
                       idempotency_key="c-5")
    with pytest.raises(sdk.UnknownPartner):
        tracker.adjust("nobody", currency="USD", amount="1.00", memo="m", kind="bonus",
                       idempotency_key="c-6")
    with pytest.raises(TypeError):
        tracker.adjust("abc123", currency="USD", amount=1.5, memo="m",  # type: ignore[arg-type]
                       kind="bonus", idempotency_key="c-7")
