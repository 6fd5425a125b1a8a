"""Click and impression earnings from Python: a day's paid clicks and impressions enter
the ledger once the day is over (an hour after midnight UTC), once per beneficiary,
payable after the campaign's approval period; a rejected day is void; bad arguments
raise typed errors."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

import affiliate_sdk as sdk
from affiliate_sdk import FixedClock, LinkSigner, Tracker

T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC
DAY = datetime.date(2023, 11, 14)


def test_a_days_clicks_become_ledger_entries_once(
    tracker: Tracker, signer: LinkSigner, clock: FixedClock
) -> None:
    # haircare pays 0.01 a click and 1.50 a thousand impressions; mid1 and boss1 earn
    # 10 % and 5 % of abc123's.
    url = signer.build("haircare", "abc123")
    for _ in range(300):
        tracker.click(url)
    for _ in range(2_000):
        tracker.impression(url)
    tracker.flush()
    # The day is not over: nothing is written.
    assert tracker.close_traffic()["written"] == 0
    # Midnight plus the hour of grace: 3.00 + 3.00 for abc123, 0.60 and 0.30 above.
    midnight = (T0 // 86_400 + 1) * 86_400
    clock.set(midnight + 3_599)
    assert tracker.close_traffic()["written"] == 0
    clock.set(midnight + 3_600)
    done = tracker.close_traffic()
    assert (done["written"], done["approved"]) == (3, 0)
    assert tracker.close_traffic()["written"] == 0
    entries = tracker.traffic()
    assert [(e["beneficiary"], e["level"], e["amount"], e["state"]) for e in entries] == [
        ("abc123", 0, Decimal("6.00"), "payable"),
        ("mid1", 1, Decimal("0.60"), "payable"),
        ("boss1", 2, Decimal("0.30"), "payable"),
    ]
    assert entries[0]["day"] == DAY and entries[0]["partner"] == "abc123"
    # The stats of the day count what the ledger holds, every level.
    rows = tracker.stats(["partner"], from_day=DAY, to_day=DAY)
    assert rows[0]["commission"] == {"USD": Decimal("6.90")}
    assert [e["beneficiary"] for e in tracker.traffic(partner="mid1", from_day="2023-11-14")] == ["mid1"]
    assert tracker.traffic(from_day="2023-11-15") == []
    # Rejected: void, every level; nothing owed.
    rejected = tracker.reject_traffic(DAY, "haircare", "abc123")
    assert {e["state"] for e in rejected} == {"void"}
    assert tracker.balances() == []


def test_bad_arguments_raise_typed_errors(tracker: Tracker) -> None:
    with pytest.raises(sdk.NotFound):
        tracker.reject_traffic("2023-11-14", "haircare", "abc123")
    with pytest.raises(sdk.Malformed):
        tracker.reject_traffic("2023-11-31", "haircare", "abc123")
    with pytest.raises(sdk.Malformed):
        tracker.reject_traffic(DAY, "hair care", "abc123")
    with pytest.raises(TypeError):
        tracker.reject_traffic(20231114, "haircare", "abc123")  # type: ignore[arg-type]
    with pytest.raises(sdk.Malformed):
        tracker.traffic(partner="bad code!")
    with pytest.raises(TypeError):
        tracker.traffic(from_day=3)  # type: ignore[arg-type]
