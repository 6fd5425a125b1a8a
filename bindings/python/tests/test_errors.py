"""Every exception: its class, code and message, raised by a real call; bad arguments
get a clear typed error and change nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Callable, Type

import pytest

import affiliate_sdk as sdk
from affiliate_sdk import FixedClock, Keyring, LinkSigner, MemoryStore, Tracker

from conftest import BASE, T0

HIERARCHY = {
    sdk.InvalidSignature: ("invalid_signature", ()),
    sdk.Expired: ("expired", ()),
    sdk.Malformed: ("malformed", (ValueError,)),
    sdk.UnknownCampaign: ("unknown_campaign", (LookupError,)),
    sdk.UnknownPartner: ("unknown_partner", (LookupError,)),
    sdk.NotAttributable: ("not_attributable", ()),
    sdk.Conflict: ("conflict", ()),
    sdk.InvalidTransition: ("invalid_transition", ()),
    sdk.NotFound: ("not_found", (LookupError,)),
    sdk.StoreError: ("store_unavailable", ()),
    sdk.Forbidden: ("forbidden", (PermissionError,)),
    sdk.Unauthorized: ("unauthorized", (sdk.Forbidden, PermissionError)),
    sdk.ManagedByConfig: ("managed_by_config", ()),
}


def test_the_error_codes_are_the_cores() -> None:
    from affiliate_sdk import _native

    assert sdk.errors.ERROR_CODES == tuple(_native.ERROR_CODES)
    # Every code has its exception, and nothing else does.
    assert set(sdk.errors.BY_CODE) == set(sdk.errors.ERROR_CODES)


def test_the_hierarchy_and_codes() -> None:
    assert issubclass(sdk.AffiliateError, Exception)
    assert set(sdk.errors.BY_CODE.values()) == set(HIERARCHY)
    for cls, (code, also) in HIERARCHY.items():
        assert issubclass(cls, sdk.AffiliateError)
        assert cls.code == code and sdk.errors.BY_CODE[code] is cls
        for base in also:
            assert issubclass(cls, base)


def raises(cls: Type[sdk.AffiliateError], call: Callable[[], Any], message: str) -> None:
    with pytest.raises(cls) as e:
        call()
    assert type(e.value) is cls
    assert e.value.code == cls.code
    assert str(e.value) == message


def test_each_error_from_a_real_call(
    tracker: Tracker, signer: LinkSigner, clock: FixedClock
) -> None:
    url = signer.build("haircare", "abc123")
    token = tracker.click(url).token
    raises(sdk.InvalidSignature, lambda: signer.verify(url.replace("abc123", "abc124")),
           "invalid signature")
    raises(sdk.InvalidSignature, lambda: tracker.verify_token(token[:-1] + "x"),
           "invalid signature")
    raises(sdk.Malformed, lambda: signer.build("hair care", "abc123"),
           "malformed campaign code: only [A-Za-z0-9_-] allowed")
    raises(sdk.UnknownCampaign, lambda: tracker.click(signer.build("nope", "abc123")),
           'unknown campaign "nope"')
    raises(sdk.UnknownPartner, lambda: tracker.click(signer.build("haircare", "nope")),
           'unknown partner "nope"')
    raises(sdk.UnknownPartner, lambda: tracker.add_partner("x", parent="ghost"),
           'unknown partner "ghost"')
    raises(sdk.NotAttributable, lambda: tracker.convert("O-1", amount="1.00", currency="USD"),
           "not attributable: no token, click id or coupon")
    tracker.convert("O-2", amount="1.00", currency="USD", token=token)
    raises(sdk.Conflict, lambda: tracker.convert("O-2", amount="2.00", currency="USD",
                                                 token=token),
           'conflict: order "O-2" was recorded with other values')
    raises(sdk.InvalidTransition, lambda: tracker.set_status("O-2", "paid"),
           "invalid transition from pending to paid")
    raises(sdk.NotFound, lambda: tracker.conversion("O-3"), 'not found: conversion "O-3"')
    clock.advance(29 * 86_400)
    raises(sdk.Expired, lambda: tracker.verify_token(token), "expired")
    raises(sdk.Expired, lambda: tracker.convert("O-4", amount="1.00", currency="USD",
                                                token=token), "expired")


def test_malformed_names_the_field(tracker: Tracker, signer: LinkSigner) -> None:
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: tracker.convert("has space", amount="1", currency="USD", coupon="ABC10"),
         "order_id"),
        (lambda: tracker.convert("O-1", amount="1.001", currency="USD", coupon="ABC10"),
         "amount"),
        (lambda: tracker.convert("O-1", amount="-1", currency="USD", coupon="ABC10"), "amount"),
        (lambda: tracker.convert("O-1", amount="1", currency="XYZ", coupon="ABC10"), "amount"),
        (lambda: tracker.convert("O-1", amount=Decimal("NaN"), currency="USD", coupon="A"),
         "amount"),
        (lambda: tracker.convert("O-1", amount="1", currency="USD", kind="no way",
                                 coupon="ABC10"), "kind"),
        (lambda: tracker.convert("O-1", amount="1", currency="USD", click_id="nope"), "click id"),
        (lambda: signer.build("haircare", "abc123", sid="a b"), "sid"),
        (lambda: tracker.add_campaign("x", destination="javascript:alert(1)", currency="USD"),
         "destination"),
        (lambda: tracker.add_campaign("x", destination="https://a.example/", currency="USD",
                                      attribution="middle"), "attribution"),
        (lambda: tracker.add_campaign("x", destination="https://a.example/", currency="USD",
                                      cookie_days=-1), "cookie_days"),
        (lambda: tracker.add_campaign("x", destination="https://a.example/", currency="USD",
                                      sale_percent="101"), "sale_percent"),
        (lambda: tracker.stats(["month"]), "group_by"),
        (lambda: sdk.Keyring({"k1": "short"}, current="k1"), "key"),
        (lambda: sdk.Keyring({"k1": Keyring.generate().export_keys()["k1"]}, current="k9"),
         "key"),
        (lambda: sdk.LinkSigner(Keyring.generate(), "ftp://x.example/go"), "base url"),
        (lambda: sdk.set_cookie_header("v1.not a token", 10), "token"),
        (lambda: sdk.parse_cookie_header("a=" + "b" * 9000), "cookie header"),
        (lambda: FixedClock(datetime.datetime(2026, 1, 1)), "time"),
        (lambda: FixedClock(-5), "time"),
        (lambda: tracker.set_status("O-1", "done"), "status"),
    ]
    for call, field in cases:
        with pytest.raises(sdk.Malformed) as e:
            call()
        assert isinstance(e.value, ValueError)
        assert e.value.field is not None and field in e.value.field, (field, str(e.value))


@pytest.mark.parametrize("amount", [49.9, 50, True, b"49.90", None])
def test_amounts_must_be_str_or_decimal(tracker: Tracker, amount: Any) -> None:
    if amount is None:  # Left out: 0 for a lead, refused for a sale (the core's rule)
        assert tracker.convert("L-1", currency="USD", kind="lead", coupon="ABC10").kind == "lead"
        with pytest.raises(sdk.Malformed, match="required for a sale"):
            tracker.convert("O-1", currency="USD", coupon="ABC10")
        return
    with pytest.raises(TypeError) as e:
        tracker.convert("O-1", amount=amount, currency="USD", coupon="ABC10")
    assert "amount must be a str or decimal.Decimal" in str(e.value)
    if isinstance(amount, float):
        assert "a float cannot hold money exactly" in str(e.value)
    with pytest.raises(sdk.NotFound):
        tracker.conversion("O-1")


def test_arguments_of_the_wrong_type_are_type_errors(tracker: Tracker) -> None:
    bad: list[Callable[[], Any]] = [
        lambda: Tracker(Keyring.generate(), store="memory", base_url=BASE),  # type: ignore[arg-type]
        lambda: tracker.stats("partner"),  # a str is not a list of dimensions
        lambda: tracker.add_partner("x", coupons="ABC"),
        lambda: tracker.add_campaign("x", destination="https://a.example/", currency="USD",
                                     sale_percent=10.0),  # type: ignore[arg-type]
        lambda: tracker.stats(["day"], from_day=20231115),  # type: ignore[arg-type]
        lambda: FixedClock("now"),  # type: ignore[arg-type]
        lambda: sdk.Keyring(["k1"], current="k1"),  # type: ignore[arg-type]
    ]
    for call in bad:
        with pytest.raises(TypeError):
            call()


def test_refused_input_changes_nothing(tracker: Tracker, signer: LinkSigner) -> None:
    before = tracker.stats()
    with pytest.raises(sdk.InvalidSignature):
        url = signer.build("haircare", "abc123")
        tracker.click(url[:-1] + ("Q" if url.endswith("A") else "A"))
    with pytest.raises(sdk.Malformed):
        tracker.click("https://t.shop.example/go/haircare/abc123?sig=k1.\\x")
    with pytest.raises(sdk.Malformed):
        tracker.add_campaign("haircare", destination="https://a.example/", currency="USD",
                             sale_percent="abc")
    with pytest.raises(sdk.NotAttributable):
        tracker.convert("N-1", amount="1.00", currency="USD", coupon="NOPE")
    assert tracker.stats() == before
    assert tracker.campaigns == ["haircare"]
    # The campaign kept its 10 %.
    token = tracker.click(signer.build("haircare", "abc123")).token
    assert tracker.convert("N-1", amount="10.00", currency="USD", token=token).commission == (
        Decimal("1.00")
    )


def test_messages_never_carry_keys_or_tokens(tracker: Tracker, signer: LinkSigner) -> None:
    token = tracker.click(signer.build("haircare", "abc123")).token
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for call in (lambda: tracker.verify_token(tampered),
                 lambda: tracker.convert("M-1", amount="1", currency="USD", token=tampered)):
        with pytest.raises(sdk.AffiliateError) as e:
            call()
        assert tampered not in str(e.value) and tampered[-22:] not in str(e.value)
    secret = Keyring.generate().export_keys()["k1"]
    with pytest.raises(sdk.Malformed) as k:
        Keyring({"k1": secret[:20]}, current="k1")
    assert secret[:20] not in str(k.value)
    assert T0 > 0
