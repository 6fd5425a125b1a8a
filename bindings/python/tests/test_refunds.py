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
