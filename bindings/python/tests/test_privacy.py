"""Traffic quality and privacy from Python: bots, erasure, pruning."""

from __future__ import annotations

import pytest

import affiliate_sdk as sdk
from affiliate_sdk import FixedClock, LinkSigner, Tracker

DAY = 86_400
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def test_a_bots_click_lands_without_a_token_and_counts_as_a_bot_click(
    tracker: Tracker, signer: LinkSigner
) -> None:
    url = signer.build("haircare", "abc123")
    for agent in ("Twitterbot/1.0", "python-requests/2.32.3", ""):
        bot = tracker.click(url, user_agent=agent)
        assert (bot.bot, bot.token, bot.set_cookie, bot.click_id) == (True, None, None, None)
        assert bot.location == "https://shop.example/hair"
    person = tracker.click(url, user_agent=CHROME)
    assert not person.bot and person.token and person.set_cookie
    # Without a user agent the caller plans a person's click.
    assert tracker.click(url).token
    [row] = tracker.stats()
    assert (row["clicks"], row["bot_clicks"]) == (2, 3)


def test_an_erased_customer_leaves_every_conversion_and_binds_anew(
    tracker: Tracker, signer: LinkSigner, clock: FixedClock
) -> None:
    tracker.add_campaign(
        "club", destination="https://shop.example/club", currency="USD",
        sale_percent="10", recurring_months=12,
    )
    tracker.add_partner("solo")

    def sale(order: str, partner: str) -> sdk.Conversion:
        token = tracker.click(signer.build("club", partner)).token
        clock.advance(60)
        return tracker.convert(order, amount="20.00", currency="USD", token=token,
                               customer_id="cust-9")

    assert sale("c1", "abc123").partner == "abc123"
    assert sale("c2", "solo").partner == "abc123"  # the binding
    assert tracker.erase_customer("cust-9") == {"conversions": 2, "bindings": 1, "events": 2}
    assert tracker.conversion("c1").customer_id is None
    assert sale("c3", "solo").partner == "solo"
    assert tracker.erase_customer("nobody") == {"conversions": 0, "bindings": 0, "events": 0}
    with pytest.raises(sdk.Malformed):
        tracker.erase_customer("has space")


def test_pruned_clicks_leave_the_reports_as_they_were(
    tracker: Tracker, signer: LinkSigner, clock: FixedClock
) -> None:
    for _ in range(3):
        tracker.click(signer.build("haircare", "abc123", sid="kw1"))
    before = tracker.stats(["sid"])
    clock.advance(60 * DAY)
    assert tracker.prune_clicks(30) == 3
    assert tracker.prune_clicks() == 0
    assert tracker.stats(["sid"]) == before
    with pytest.raises(sdk.Malformed):
        tracker.prune_clicks(0)


def test_housekeeping_approves_due_conversions_and_prunes_old_clicks(
    tracker: Tracker, signer: LinkSigner, clock: FixedClock
) -> None:
    tracker.add_campaign(
        "slow",
        destination="https://shop.example/slow",
        currency="USD",
        sale_percent="10",
        approve_after_days=30,
    )
    tracker.click(signer.build("haircare", "abc123"))
    tracker.manual("H-1", amount="20.00", currency="USD", campaign="slow", partner="abc123")
    clock.advance(31 * DAY)
    done = tracker.run_housekeeping(30)
    assert done == {
        "refreshed": False,
        "approved": 1,
        "clicks_pruned": 1,
        "deliveries_pruned": 0,
        "failed": [],
    }
    assert tracker.conversion("H-1").status == "approved"
    assert tracker.run_housekeeping()["approved"] == 0
    with pytest.raises(sdk.Malformed):
        tracker.run_housekeeping(0)
