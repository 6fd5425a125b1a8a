"""Checked by mypy in tests/test_typing.py, not run: every line marked `# E` must be a
type error, so the stubs refuse what the package refuses."""

from __future__ import annotations

import affiliate_sdk as sdk


def misuse(tracker: sdk.Tracker, keys: sdk.Keyring) -> None:
    tracker.convert("o", amount=49.9, currency="USD")  # E
    tracker.add_campaign("c", destination="https://x/", currency="USD", sale_flat=5.0)  # E
    tracker.stats(["day"], from_day=20260101)  # E
    tracker.convert("o", amount="1", currency="USD", token=None, coupons="A")  # E
    sdk.Tracker(keys, store="memory", base_url="https://t/go")  # E
    sdk.Tracker(keys, base_url="https://t/go")  # E
    tracker.click("https://t/go/c/p?sig=k1.x").token = "forged"  # E
    tracker.set_status("o", "aproved")  # E
    tracker.add_campaign("c", destination="https://x/", currency="USD", attribution="latest")  # E
    tracker.stats(["partners"])  # E
    tracker.list_conversions(status="canceled")  # E
    row = tracker.stats()[0]
    row["clicks"] = "12"  # E
    tracker.landing("GET", "/")  # E
