"""Checked by `mypy --strict` (tests/test_typing.py), not run: the stubs give every
public name the type a user expects."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Dict, List, Literal, Optional, Tuple, Union

from typing_extensions import assert_type

import affiliate_sdk as sdk
from affiliate_sdk.types import ConversionStatus, StatsRow


def tour(keys: sdk.Keyring, store: sdk.SledStore) -> None:
    signer = sdk.LinkSigner(keys, base_url="https://t.example/go")
    url = assert_type(signer.build("c", "p", ad=None, sid="s"), str)
    link = assert_type(signer.verify(url), sdk.Link)
    assert_type(link.ad, Optional[str])
    tracker = sdk.Tracker(keys, store=store, base_url=signer.base_url,
                          clock=sdk.FixedClock(datetime.datetime.now(datetime.timezone.utc)))
    tracker.add_campaign("c", destination="https://shop.example/", currency="USD",
                         sale_percent=Decimal("10"), override_percents=["5"])
    tracker.add_partner("p", coupons=["P10"])
    click = assert_type(tracker.click(url, prior_token=None), sdk.Click)
    assert click.token is not None  # None only for a bot's click
    session = assert_type(tracker.verify_token(click.token), sdk.Session)
    assert_type(session.expires_at, datetime.datetime)
    conv = assert_type(
        tracker.convert("o", amount="1.00", currency="USD", token=click.token), sdk.Conversion
    )
    assert_type(conv.commission, Decimal)
    assert_type(conv.commissions, List[sdk.Commission])
    assert_type(conv.commissions[0].amount, Decimal)
    assert_type(conv.to_dict(), Dict[str, object])
    rows = tracker.stats(["partner"], from_day=datetime.date(2026, 1, 1), to_day="2026-12-31")
    assert_type(rows[0], StatsRow)
    assert_type(rows[0]["clicks"], int)
    assert_type(rows[0]["revenue"], Dict[str, Decimal])
    assert_type(conv.status, ConversionStatus)
    if conv.status == "approved":  # a Literal narrows
        assert_type(conv.status, Literal["approved"])
    assert_type(conv.kind, Union[Literal["sale", "lead"], str])
    landing = assert_type(tracker.landing("GET", "/hair", f"aff_token={click.token}"),
                          Optional[sdk.LandingRedirect])
    if landing is not None:
        assert_type(landing.headers, List[Tuple[str, str]])
        assert_type(landing.status, int)
    assert_type(sdk.parse_cookie_header("a=b"), Optional[str])
    assert_type(keys.export_keys(), Dict[str, str])
    try:
        tracker.set_status("o", "approved")
    except sdk.InvalidTransition as e:
        assert_type(e.code, str)
    except sdk.Malformed as e:
        assert_type(e.field, Optional[str])
