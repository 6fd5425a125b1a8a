"""The embedded store keeps everything across a reopen."""

from __future__ import annotations

import gc
import pathlib
from decimal import Decimal

import pytest

import affiliate_sdk as sdk
from affiliate_sdk import Keyring, LinkSigner, SledStore, Tracker

from conftest import BASE


def open_tracker(keys: Keyring, path: pathlib.Path) -> Tracker:
    t = Tracker(keys, store=SledStore(path), base_url=BASE)
    t.add_campaign("haircare", destination="https://shop.example/", currency="USD",
                   sale_percent="10", recurring_months=6)
    t.add_partner("abc123", coupons=["ABC10"])
    return t


def test_clicks_conversions_statuses_and_bindings_survive_a_reopen(
    tmp_path: pathlib.Path,
) -> None:
    keys = Keyring.generate()
    path = tmp_path / "affiliate-data"
    tracker = open_tracker(keys, path)
    signer = LinkSigner(keys, BASE)
    click = tracker.click(signer.build("haircare", "abc123", sid="kw1"))
    tracker.click(signer.build("haircare", "abc123", sid="kw1"))
    tracker.convert("R-1", amount="49.90", currency="USD", token=click.token, customer_id="c-1")
    tracker.set_status("R-1", "approved")
    before = tracker.stats(["partner", "sid"])
    assert repr(tracker.conversion("R-1").status) == "'approved'"
    # Nothing flushed by hand: closing the store (the last reference gone) writes the
    # buffered clicks.
    del tracker
    gc.collect()

    again = open_tracker(keys, path)
    assert again.stats(["partner", "sid"]) == before
    assert before[0]["clicks"] == 2 and before[0]["revenue"] == {"USD": Decimal("49.90")}
    stored = again.conversion("R-1")
    assert (stored.status, stored.partner, stored.sid, stored.click_id) == (
        "approved", "abc123", "kw1", click.click_id,
    )
    # The replay is still a replay, the click id still attributes, and the customer
    # binding still holds.
    assert again.convert("R-1", amount="49.90", currency="USD", token=click.token).duplicate
    by_click = again.convert("R-2", amount="10.00", currency="USD", click_id=click.click_id)
    assert by_click.evidence == "click_id"
    recurring = again.convert("R-3", amount="10.00", currency="USD", customer_id="c-1")
    assert (recurring.partner, recurring.evidence) == ("abc123", "customer")


def test_a_directory_open_elsewhere_is_a_store_error(tmp_path: pathlib.Path) -> None:
    first = SledStore(tmp_path / "db")
    with pytest.raises(sdk.StoreError) as e:
        SledStore(tmp_path / "db")
    assert e.value.code == "store_unavailable"
    assert first.path == tmp_path / "db"
    assert repr(first) == f"SledStore('{tmp_path / 'db'}')"


def test_a_path_that_cannot_be_a_directory_is_a_store_error(tmp_path: pathlib.Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(sdk.StoreError):
        SledStore(tmp_path / "file")


def test_campaigns_and_partners_added_once_are_there_after_a_restart(
    tmp_path: pathlib.Path,
) -> None:
    keys = Keyring.generate()
    path = tmp_path / "affiliate-data"
    shop = Tracker(keys, store=SledStore(path), base_url=BASE)
    shop.add_campaign("skincare", destination="https://shop.example/skin", currency="EUR",
                      sale_flat="5.00")
    shop.add_partner("boss1")
    shop.add_partner("child1", parent="boss1", coupons=["CHILD5"])
    del shop
    gc.collect()
    # The next start adds nothing: the program is in the store.
    again = Tracker(keys, store=SledStore(path), base_url=BASE)
    assert again.campaigns == ["skincare"]
    assert sorted(again.partners) == ["boss1", "child1"]
    conv = again.convert("P-1", amount="20.00", currency="EUR", coupon="child5")
    assert (conv.partner, conv.commission) == ("child1", Decimal("5.00"))


def test_a_suspended_partner_is_kept_suspended_and_profiles_are_checked(
    tmp_path: pathlib.Path,
) -> None:
    keys = Keyring.generate()
    path = tmp_path / "affiliate-data"
    shop = Tracker(keys, store=SledStore(path), base_url=BASE)
    shop.add_campaign("haircare", destination="https://shop.example/", currency="USD",
                      sale_percent="10")
    shop.add_partner("abc123", name="Ann", email="ann@reviews.example", status="suspended")
    with pytest.raises(sdk.Malformed):
        shop.add_partner("bad", email="not an address")
    with pytest.raises(sdk.Malformed):
        shop.add_partner("bad", status="gone")
    assert shop.partners == ["abc123"]
    del shop
    gc.collect()
    again = Tracker(keys, store=SledStore(path), base_url=BASE)
    with pytest.raises(sdk.NotAttributable):
        again.click(LinkSigner(keys, BASE).build("haircare", "abc123"))

