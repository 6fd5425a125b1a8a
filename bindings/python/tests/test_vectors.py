"""The core's known-answer vectors, through the package: identical strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict

import pytest

import affiliate_sdk as sdk


def ring(v: Dict[str, Any], current: str) -> sdk.Keyring:
    return sdk.Keyring(v["keys"], current=current)


def test_links_are_built_exactly_and_verify_to_their_fields(vectors: Dict[str, Any]) -> None:
    assert vectors["links"], "no link vectors"
    for case in vectors["links"]:
        signer = sdk.LinkSigner(ring(vectors, case["kid"]), base_url=vectors["base_url"])
        url = signer.build(case["campaign"], case["partner"], ad=case["ad"], sid=case["sid"])
        assert url == case["url"]
        link = signer.verify(url)
        assert (link.campaign, link.partner, link.ad, link.sid) == (
            case["campaign"],
            case["partner"],
            case["ad"],
            case["sid"],
        )


def test_link_checks_accept_and_refuse_with_the_same_codes(vectors: Dict[str, Any]) -> None:
    signer = sdk.LinkSigner(ring(vectors, vectors["current"]), base_url=vectors["base_url"])
    for case in vectors["link_checks"]:
        if case["error"] is None:
            assert signer.verify(case["url"]).sid == case["sid"], case["name"]
        else:
            with pytest.raises(sdk.AffiliateError) as e:
                signer.verify(case["url"])
            assert e.value.code == case["error"], case["name"]
            assert sdk.errors.BY_CODE[case["error"]] is type(e.value)


def test_tokens_are_issued_exactly_and_verify_to_their_claims(vectors: Dict[str, Any]) -> None:
    assert vectors["tokens"], "no token vectors"
    for case in vectors["tokens"]:
        keys = ring(vectors, case["kid"])
        token = keys.issue_token(
            case["click_id"],
            case["campaign"],
            case["partner"],
            ad=case["ad"],
            sid=case["sid"],
            issued_at=case["issued_at"],
            expires_at=case["expires_at"],
        )
        assert token == case["token"]
        s = keys.verify_token(token, now=case["issued_at"])
        assert (s.click_id, s.campaign, s.partner, s.ad, s.sid) == (
            case["click_id"],
            case["campaign"],
            case["partner"],
            case["ad"],
            case["sid"],
        )
        assert int(s.issued_at.timestamp()) == case["issued_at"]
        assert int(s.expires_at.timestamp()) == case["expires_at"]


def test_token_checks_accept_and_refuse_with_the_same_codes(vectors: Dict[str, Any]) -> None:
    keys = ring(vectors, vectors["current"])
    for case in vectors["token_checks"]:
        if case["error"] is None:
            keys.verify_token(case["token"], now=case["now"], skew_secs=vectors["skew_secs"])
        else:
            with pytest.raises(sdk.AffiliateError) as e:
                keys.verify_token(case["token"], now=case["now"])
            assert e.value.code == case["error"], case["name"]


def test_cookies_are_written_and_found_exactly(vectors: Dict[str, Any]) -> None:
    for case in vectors["cookies"]["set_cookie"]:
        header = sdk.set_cookie_header(
            case["token"], case["max_age"], domain=case["domain"], secure=case["secure"]
        )
        assert header == case["header"]
    for case in vectors["cookies"]["find"]:
        if case.get("error"):
            with pytest.raises(sdk.Malformed):
                sdk.parse_cookie_header(case["header"])
        else:
            assert sdk.parse_cookie_header(case["header"]) == case["found"]


def test_order_signatures_are_made_exactly(vectors: Dict[str, Any]) -> None:
    assert vectors["orders"], "no order vectors"
    for case in vectors["orders"]:
        keys = ring(vectors, case["kid"])
        osig = keys.sign_order(case["order_id"], case["amount"], case["currency"], case["kind"])
        assert osig == case["osig"], case
    # A Decimal amount signs as its text.
    first = vectors["orders"][0]
    keys = ring(vectors, first["kid"])
    assert keys.sign_order(first["order_id"], Decimal(first["amount"]), first["currency"]) == first["osig"]


def test_order_signing_refuses_bad_input(vectors: Dict[str, Any]) -> None:
    keys = ring(vectors, vectors["current"])
    for args in [("A 1", "1.00", "USD"), ("A-1", "1.001", "USD"), ("A-1", "1", "QQQ"), ("", "1", "USD")]:
        with pytest.raises(sdk.Malformed):
            keys.sign_order(*args)
    with pytest.raises(TypeError, match="float cannot hold money"):
        keys.sign_order("A-1", 1.5, "USD")  # type: ignore[arg-type]
