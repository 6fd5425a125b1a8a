"""The whole public API of affiliate_sdk, as a shop would use it."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

import affiliate_sdk as sdk
from affiliate_sdk import FixedClock, Keyring, LinkSigner, MemoryStore, Tracker

from conftest import BASE, T0

UTC = datetime.timezone.utc
DAY = 86_400


# --- keys -------------------------------------------------------------------------


def test_generated_keys_sign_and_can_be_stored_and_reloaded() -> None:
    keys = Keyring.generate(kid="main")
    assert (keys.current, keys.kids) == ("main", ["main"])
    exported = keys.export_keys()
    assert list(exported) == ["main"] and len(exported["main"]) >= 43
    again = Keyring(exported, current="main")
    url = LinkSigner(keys, BASE).build("haircare", "abc123")
    assert LinkSigner(again, BASE).verify(url).partner == "abc123"
    # Two generated rings never share a key.
    assert Keyring.generate().export_keys() != Keyring.generate().export_keys()


def test_keys_never_show_in_repr_or_str() -> None:
    keys = Keyring.generate()
    secret = keys.export_keys()["k1"]
    t = Tracker(keys, store=MemoryStore(), base_url=BASE)
    for shown in (repr(keys), str(keys), repr(LinkSigner(keys, BASE)), repr(t)):
        assert secret not in shown
    assert repr(keys) == "Keyring(current='k1', kids=['k1'])"


def test_rotation_old_links_verify_until_their_key_is_removed() -> None:
    k1 = Keyring.generate().export_keys()["k1"]
    k2 = Keyring.generate().export_keys()["k1"]
    old = LinkSigner(Keyring({"k1": k1}, current="k1"), BASE).build("haircare", "abc123")
    both = LinkSigner(Keyring({"k1": k1, "k2": k2}, current="k2"), BASE)
    new = both.build("haircare", "abc123")
    assert "sig=k2." in new and "sig=k1." in old
    assert both.verify(old).partner == "abc123"
    only_k2 = LinkSigner(Keyring({"k2": k2}, current="k2"), BASE)
    assert only_k2.verify(new).partner == "abc123"
    with pytest.raises(sdk.InvalidSignature):
        only_k2.verify(old)


# --- links ------------------------------------------------------------------------


def test_links_carry_codes_and_a_partner_sid_and_survive_appended_parameters(
    signer: LinkSigner,
) -> None:
    url = signer.build("haircare", "abc123", ad="website2")
    assert url.startswith(BASE + "/haircare/abc123/website2?sig=k1.")
    link = signer.verify(url + "&sid=kw_1&utm_source=mail")
    assert (link.campaign, link.partner, link.ad, link.sid) == (
        "haircare",
        "abc123",
        "website2",
        "kw_1",
    )
    assert link == signer.verify(url + "&sid=kw_1")
    assert len({link, signer.verify(url + "&sid=kw_1")}) == 1
    assert repr(signer.verify(url)) == (
        "Link(campaign='haircare', partner='abc123', ad='website2', sid=None)"
    )
    assert signer.base_url == BASE


def test_every_signed_character_matters(signer: LinkSigner) -> None:
    url = signer.build("haircare", "abc123", ad="website2")
    start = len(BASE) + 1
    for i in range(start, len(url)):
        if url[i] in "?=.&":
            continue
        changed = url[:i] + ("A" if url[i] != "A" else "B") + url[i + 1 :]
        with pytest.raises((sdk.InvalidSignature, sdk.Malformed)):
            signer.verify(changed)


# --- clicks, tokens, cookies ------------------------------------------------------


def test_a_click_counts_and_returns_token_cookie_and_redirect(
    tracker: Tracker, signer: LinkSigner
) -> None:
    click = tracker.click(signer.build("haircare", "abc123", sid="kw1"))
    assert click.location == "https://shop.example/hair?aff_token=" + click.token
    assert click.set_cookie == (
        f"aff_token={click.token}; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age={28 * DAY}"
    )
    assert click.unique and not click.kept_earlier and not click.dropped_sid
    assert len(click.click_id) == 36
    s = tracker.verify_token(click.token)
    assert (s.click_id, s.campaign, s.partner, s.ad, s.sid) == (
        click.click_id,
        "haircare",
        "abc123",
        None,
        "kw1",
    )
    assert s.issued_at == datetime.datetime.fromtimestamp(T0, UTC)
    assert s.expires_at == datetime.datetime.fromtimestamp(T0 + 28 * DAY, UTC)
    assert s.expires_at.tzinfo is not None
    # A repeat click within a day with the token is counted but not unique.
    again = tracker.click(signer.build("haircare", "abc123"), prior_token=click.token)
    assert not again.unique
    # A bad sid is dropped; the click still counts.
    dropped = tracker.click(signer.build("haircare", "abc123") + "&sid=%3Cscript%3E")
    assert dropped.token is not None
    assert dropped.dropped_sid and tracker.verify_token(dropped.token).sid is None
    row = tracker.stats()[0]
    assert (row["clicks"], row["unique_clicks"]) == (3, 2)
    # 0.01 per unique click: the repeat pays nothing.
    assert row["commission"] == {"USD": Decimal("0.02")}


def test_first_click_campaigns_keep_the_earlier_token(
    tracker: Tracker, signer: LinkSigner, clock: FixedClock
) -> None:
    tracker.add_campaign(
        "spring", destination="https://shop.example/", currency="USD", attribution="first"
    )
    first = tracker.click(signer.build("spring", "abc123"))
    clock.advance(60)
    second = tracker.click(signer.build("spring", "mid1"), prior_token=first.token)
    assert second.kept_earlier and second.token == first.token
    # A last-click campaign replaces it.
    third = tracker.click(signer.build("haircare", "mid1"), prior_token=first.token)
    assert not third.kept_earlier and third.token != first.token


def test_tokens_expire_with_skew_allowed_on_both_ends(
    tracker: Tracker, signer: LinkSigner, clock: FixedClock
) -> None:
    token = tracker.click(signer.build("haircare", "abc123")).token
    clock.advance(28 * DAY + 59)  # the window end is exclusive; 60 s of skew
    assert tracker.verify_token(token).partner == "abc123"
    clock.advance(1)
    with pytest.raises(sdk.Expired) as e:
        tracker.verify_token(token)
    assert e.value.code == "expired"
    keys = Keyring.generate()
    future = keys.issue_token(
        "01890a5d-ac96-774b-bcce-b302099a8057",
        "haircare",
        "abc123",
        issued_at=T0 + 61,
        expires_at=T0 + DAY,
    )
    with pytest.raises(sdk.Expired):
        keys.verify_token(future, now=T0)
    assert keys.verify_token(future, now=T0, skew_secs=61).partner == "abc123"
    aware = datetime.datetime.fromtimestamp(T0 + 61, UTC)
    assert keys.verify_token(future, now=aware).campaign == "haircare"


def test_the_landing_cookie_runs_to_the_token_expiry(
    tracker: Tracker, signer: LinkSigner, clock: FixedClock
) -> None:
    token = tracker.click(signer.build("haircare", "abc123")).token
    clock.advance(300)
    header = tracker.set_cookie_for(token)
    assert header.startswith(f"aff_token={token}; HttpOnly; SameSite=Lax; Secure; Path=/;")
    assert header.endswith(f"Max-Age={28 * DAY - 300}")
    with pytest.raises(sdk.InvalidSignature):
        tracker.set_cookie_for(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    # A landing comes straight from a click: a token issued over 10 minutes ago is a
    # shared or posted link, and is not kept.
    clock.advance(301)
    with pytest.raises(sdk.Expired) as e:
        tracker.set_cookie_for(token)
    assert "10 minutes" in str(e.value)


def test_cookie_settings_follow_the_tracker(keys: Keyring, signer: LinkSigner) -> None:
    t = Tracker(
        keys,
        store=MemoryStore(),
        base_url="http://127.0.0.1:8080/go",
        cookie_domain=".shop.example",
        cookie_name="ref",
    )
    t.add_campaign("haircare", destination="https://shop.example/?a=1#top", currency="USD")
    t.add_partner("abc123")
    click = t.click(LinkSigner(keys, "http://127.0.0.1:8080/go").build("haircare", "abc123"))
    assert click.location == f"https://shop.example/?a=1&ref={click.token}#top"
    assert click.set_cookie.startswith(f"ref={click.token}; HttpOnly; SameSite=Lax; Path=/;")
    assert "Domain=shop.example" in click.set_cookie and "Secure" not in click.set_cookie
    assert t.cookie_name == "ref" and t.base_url == "http://127.0.0.1:8080/go"
    assert sdk.parse_cookie_header(f"theme=dark; ref={click.token}", "ref") == click.token
    assert sdk.parse_cookie_header("theme=dark") is None


def test_impressions_count_and_pay_per_mille(tracker: Tracker, signer: LinkSigner) -> None:
    url = signer.build("haircare", "abc123", ad="banner")
    for _ in range(400):
        tracker.impression(url)
    row = tracker.stats(["ad"])[0]
    # 400 at 1.50 a thousand for abc123, and its ancestors' 10 % and 5 % of that (the
    # commission of every level, as the ledger writes it when the day is over).
    assert (row["ad"], row["impressions"], row["commission"]) == (
        "banner",
        400,
        {"USD": Decimal("0.69")},
    )


# --- conversions ------------------------------------------------------------------


def test_a_sale_pays_the_partner_and_its_ancestors_once(
    tracker: Tracker, signer: LinkSigner, clock: FixedClock
) -> None:
    click = tracker.click(signer.build("haircare", "abc123", ad="w2", sid="kw1"))
    clock.advance(3600)
    conv = tracker.convert("A-1", amount="49.90", currency="USD", token=click.token)
    assert (conv.order_id, conv.kind, conv.amount, conv.currency) == (
        "A-1",
        "sale",
        Decimal("49.90"),
        "USD",
    )
    assert (conv.campaign, conv.partner, conv.ad, conv.sid) == ("haircare", "abc123", "w2", "kw1")
    assert (conv.click_id, conv.evidence, conv.status) == (click.click_id, "token", "pending")
    assert conv.commission == Decimal("4.99") and isinstance(conv.commission, Decimal)
    assert [(c.partner, c.level, c.amount, c.currency) for c in conv.commissions] == [
        ("abc123", 0, Decimal("4.99"), "USD"),
        ("mid1", 1, Decimal("0.50"), "USD"),
        ("boss1", 2, Decimal("0.25"), "USD"),
    ]
    assert conv.converted_at == datetime.datetime.fromtimestamp(T0 + 3600, UTC)
    assert not conv.duplicate and conv.customer_id is None
    replay = tracker.convert("A-1", amount=Decimal("49.90"), currency="USD", token=click.token)
    assert replay.duplicate and replay.commission == conv.commission
    with pytest.raises(sdk.Conflict):
        tracker.convert("A-1", amount="50.00", currency="USD", token=click.token)
    with pytest.raises(sdk.Conflict):
        tracker.convert("A-1", amount="49.90", currency="EUR", token=click.token)
    stored = tracker.conversion("A-1")
    assert stored.to_dict() == {**conv.to_dict()}
    assert conv.to_dict()["commissions"][2] == {"partner": "boss1", "level": 2, "amount": "0.25"}
    assert conv.to_dict()["amount"] == "49.90" and conv.to_dict()["converted_at"] == T0 + 3600
    assert repr(conv).startswith("Conversion(order_id='A-1', kind='sale', amount=Decimal('49.90')")


def test_evidence_click_id_coupon_manual_and_leads(tracker: Tracker, signer: LinkSigner) -> None:
    click = tracker.click(signer.build("haircare", "mid1"))
    by_id = tracker.convert("B-1", amount="10.00", currency="USD", click_id=click.click_id)
    assert (by_id.partner, by_id.evidence, by_id.commission) == ("mid1", "click_id", Decimal("1.00"))
    coupon = tracker.convert("B-2", amount="20.00", currency="USD", coupon="abc10")
    assert (coupon.partner, coupon.evidence) == ("abc123", "coupon")
    # A token beats a coupon.
    both = tracker.convert("B-3", amount="1.00", currency="USD", coupon="ABC10", token=click.token)
    assert (both.partner, both.evidence) == ("mid1", "token")
    lead = tracker.convert("B-4", currency="USD", kind="lead", token=click.token)
    assert (lead.kind, lead.amount, lead.commission) == ("lead", Decimal("0"), Decimal("2.00"))
    action = tracker.convert("B-5", currency="USD", kind="signup", token=click.token)
    assert (action.kind, action.commission) == ("signup", Decimal("2.00"))
    manual = tracker.manual(
        "B-6", amount="30.00", currency="USD", campaign="haircare", partner="abc123", sid="x.1"
    )
    assert (manual.evidence, manual.partner, manual.sid, manual.commission) == (
        "manual",
        "abc123",
        "x.1",
        Decimal("3.00"),
    )
    with pytest.raises(sdk.NotAttributable):
        tracker.convert("B-7", amount="1.00", currency="USD")
    with pytest.raises(sdk.NotAttributable):
        tracker.convert("B-8", amount="1.00", currency="USD", coupon="NOPE")
    with pytest.raises(sdk.NotFound):
        tracker.conversion("B-7")


def test_recurring_customers_stay_with_their_partner(tracker: Tracker, signer: LinkSigner) -> None:
    tracker.add_campaign(
        "club", destination="https://shop.example/club", currency="USD",
        sale_flat="5.00", recurring_months=12,
    )
    click = tracker.click(signer.build("club", "abc123"))
    first = tracker.convert(
        "C-1", amount="9.99", currency="USD", token=click.token, customer_id="cust-7"
    )
    assert (first.customer_id, first.commission) == ("cust-7", Decimal("5.00"))
    later = tracker.convert("C-2", amount="9.99", currency="USD", customer_id="cust-7")
    assert (later.partner, later.evidence) == ("abc123", "customer")


def test_minimum_time_to_convert_refuses_bots(
    tracker: Tracker, signer: LinkSigner, clock: FixedClock
) -> None:
    tracker.add_campaign(
        "slow", destination="https://shop.example/", currency="USD", min_seconds_to_convert=30
    )
    token = tracker.click(signer.build("slow", "abc123")).token
    with pytest.raises(sdk.NotAttributable):
        tracker.convert("D-1", amount="1.00", currency="USD", token=token)
    clock.advance(30)
    assert tracker.convert("D-1", amount="1.00", currency="USD", token=token).partner == "abc123"


def test_statuses_follow_the_lifecycle_and_reports_leave_out_refunds(
    tracker: Tracker, signer: LinkSigner
) -> None:
    token = tracker.click(signer.build("haircare", "abc123")).token
    for order in ("E-1", "E-2"):
        tracker.convert(order, amount="100.00", currency="USD", token=token)
    assert tracker.set_status("E-1", "approved").status == "approved"
    assert tracker.set_status("E-1", "paid").status == "paid"
    with pytest.raises(sdk.InvalidTransition) as e:
        tracker.set_status("E-1", "pending")
    assert str(e.value) == "invalid transition from paid to pending"
    assert tracker.set_status("E-1", "reversed").status == "reversed"
    assert tracker.conversion("E-1").status == "reversed"
    with pytest.raises(sdk.Malformed):
        tracker.set_status("E-2", "done")
    with pytest.raises(sdk.NotFound):
        tracker.set_status("E-9", "approved")
    row = tracker.stats()[0]
    assert (row["sales"], row["revenue"]) == (2, {"USD": Decimal("100.00")})
    assert row["commission"] == {"USD": Decimal("11.51")}  # 10.00 + 1.00 + 0.50 + 1 click


def test_stats_group_and_filter_by_day_campaign_and_partner(
    tracker: Tracker, signer: LinkSigner, clock: FixedClock
) -> None:
    tracker.add_campaign("other", destination="https://shop.example/o", currency="EUR",
                         sale_percent="5")
    for day, (campaign, partner, sid) in enumerate(
        [("haircare", "abc123", "a"), ("haircare", "mid1", None), ("other", "abc123", "b")]
    ):
        clock.set(T0 + day * DAY)
        token = tracker.click(signer.build(campaign, partner, sid=sid)).token
        currency = "USD" if campaign == "haircare" else "EUR"
        tracker.convert(f"F-{day}", amount="10.00", currency=currency, token=token)
    rows = tracker.stats(["campaign", "partner", "sid", "day"])
    assert [(r["campaign"], r["partner"], r["sid"], r["day"]) for r in rows] == [
        ("haircare", "abc123", "a", "2023-11-14"),
        ("haircare", "mid1", None, "2023-11-15"),
        ("other", "abc123", "b", "2023-11-16"),
    ]
    assert rows[2]["revenue"] == {"EUR": Decimal("10.00")}
    only = tracker.stats(["day"], from_day=datetime.date(2023, 11, 15), to_day="2023-11-15")
    assert [(r["day"], r["clicks"], r["sales"]) for r in only] == [("2023-11-15", 1, 1)]
    assert [r["partner"] for r in tracker.stats(["partner"], campaign="other")] == ["abc123"]
    by_partner = tracker.stats(["campaign"], partner="abc123")
    assert [(r["campaign"], r["sales"]) for r in by_partner] == [("haircare", 1), ("other", 1)]
    with pytest.raises(sdk.Malformed):
        tracker.stats(["day"], from_day="2023-11-16", to_day="2023-11-15")
    with pytest.raises(sdk.Malformed):
        tracker.stats(["day"], from_day="15/11/2023")
    with pytest.raises(TypeError):
        tracker.stats(["day"], from_day=datetime.datetime(2023, 11, 15, tzinfo=UTC))  # type: ignore[arg-type]


def test_campaigns_and_partners_are_listed(tracker: Tracker) -> None:
    assert tracker.campaigns == ["haircare"]
    assert tracker.partners == ["abc123", "boss1", "mid1"]


def test_fixed_clock_reads_and_moves(clock: FixedClock) -> None:
    assert clock.now == datetime.datetime.fromtimestamp(T0, UTC)
    clock.advance(10)
    clock.set(datetime.datetime(2030, 1, 1, tzinfo=UTC))
    assert clock.now.year == 2030 and repr(clock) == "FixedClock(1893456000)"


def test_a_signed_link_for_an_unknown_partner_credits_nobody(
    tracker: Tracker, signer: LinkSigner
) -> None:
    # Signed with the merchant's own key, for a partner it never created: the core's
    # click plan refuses it, counts nothing and issues no token.
    stranger = signer.build("haircare", "stranger", sid="kw1")
    with pytest.raises(sdk.UnknownPartner):
        tracker.click(stranger)
    assert tracker.stats(group_by=["partner"]) == []
    tracker.click(signer.build("haircare", "abc123"))
    rows = tracker.stats(group_by=["partner"])
    assert [(r["partner"], r["clicks"]) for r in rows] == [("abc123", 1)]


def test_a_rejected_order_id_is_attributed_again_and_the_old_record_kept(
    tracker: Tracker, signer: LinkSigner, clock: FixedClock
) -> None:
    first = tracker.manual("R-1", amount="20.00", currency="USD", campaign="haircare", partner="mid1")
    assert (first.channel, first.replaced) == ("manual", False)
    tracker.set_status("R-1", "rejected")
    # A retry of the same attribution does not undo the rejection.
    again = tracker.manual("R-1", amount="20.00", currency="USD", campaign="haircare", partner="mid1")
    assert again.duplicate and again.status == "rejected"
    token = tracker.click(signer.build("haircare", "abc123")).token
    clock.advance(60)
    c = tracker.convert("R-1", amount="20.00", currency="USD", token=token)
    assert (c.partner, c.replaced, c.channel, c.status) == ("abc123", True, "server", "pending")
    kept = tracker.replaced_conversions("R-1")
    assert [(k.partner, k.status) for k in kept] == [("mid1", "rejected")]
    assert tracker.replaced_conversions("R-2") == []
    with pytest.raises(sdk.Malformed):
        tracker.replaced_conversions("R 1")

