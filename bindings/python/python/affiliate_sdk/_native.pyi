"""Type stubs of the native module (checked against it by mypy.stubtest in the tests)."""

from __future__ import annotations

import datetime
import os
from decimal import Decimal
from typing import Any, Callable, Dict, List, Literal, Mapping, Optional, Sequence, Tuple, Union, final

from .types import (
    Attribution,
    CampaignStatus,
    Channel,
    ClickCommission,
    ConversionStatus,
    CookieConsent,
    Dimension,
    Evidence,
    Kind,
    MediaType,
    PartnerStatus,
    PayoutStatus,
    StatsRow,
)

#: A money amount or percentage: a decimal ``str`` (``"49.90"``) or a ``Decimal``.
#: Floats are refused (``TypeError``): they cannot hold money exactly.
_Amount = Union[str, Decimal]
#: A point in time: ``int`` Unix seconds or a timezone-aware ``datetime``.
_Instant = Union[int, datetime.datetime]
#: A UTC day: a ``date`` or ``"YYYY-MM-DD"``.
_Day = Union[str, datetime.date]
#: A JSON value as the API shows it (campaigns, partners, coupons, ads, results).
_Json = Union[None, bool, int, str, List[Any], Dict[str, Any]]
#: A payout: ``id``, ``partner``, ``currency``, ``status`` (``str``), ``amount``
#: (``Decimal``), ``entries`` (``int``), ``created`` / ``updated`` (``datetime``); with
#: ``items`` from ``Tracker.payout``.
_Payout = Dict[str, Any]
#: A value for ``update_campaign`` / ``update_partner`` (``None`` resets a field).
_Change = Union[None, bool, int, str, Decimal, Sequence[str]]

__all__ = [
    "DEFAULT_COOKIE_DAYS",
    "DEFAULT_COOKIE_NAME",
    "DEFAULT_SKEW_SECS",
    "ERROR_CODES",
    "Click",
    "Commission",
    "Conversion",
    "FixedClock",
    "Keyring",
    "LandingRedirect",
    "Link",
    "LinkSigner",
    "MemoryStore",
    "PostgresStore",
    "Session",
    "SledStore",
    "Tracker",
    "__version__",
    "parse_cookie_header",
    "set_cookie_header",
]

__version__: str
DEFAULT_COOKIE_NAME: str
DEFAULT_COOKIE_DAYS: int
DEFAULT_SKEW_SECS: int
#: Every error code, as the Rust core lists them (``affiliate_sdk.errors.ERROR_CODES``).
ERROR_CODES: List[str]

@final
class Keyring:
    """Signing and verifying keys: the current one signs, every one verifies."""

    def __new__(cls, keys: Mapping[str, str], current: str) -> Keyring: ...
    @classmethod
    def generate(cls, kid: str = "k1") -> Keyring: ...
    @property
    def current(self) -> str: ...
    @property
    def kids(self) -> List[str]: ...
    def export_keys(self) -> Dict[str, str]: ...
    def issue_token(
        self,
        click_id: str,
        campaign: str,
        partner: str,
        ad: Optional[str] = None,
        sid: Optional[str] = None,
        *,
        issued_at: _Instant,
        expires_at: _Instant,
    ) -> str: ...
    def verify_token(
        self, token: str, *, now: Optional[_Instant] = None, skew_secs: int = 60
    ) -> Session: ...
    def sign_order(
        self, order_id: str, amount: _Amount, currency: str, kind: str = "sale"
    ) -> str:
        """The merchant's order signature (``osig``) for a confirmation page."""
        ...

@final
class LinkSigner:
    """Builds and verifies signed tracking links under a base URL."""

    def __new__(cls, keys: Keyring, base_url: str) -> LinkSigner: ...
    @property
    def base_url(self) -> str: ...
    def build(
        self,
        campaign: str,
        partner: str,
        ad: Optional[str] = None,
        sid: Optional[str] = None,
    ) -> str: ...
    def verify(self, url: str) -> Link: ...

@final
class Link:
    """What a verified link names."""

    @property
    def campaign(self) -> str: ...
    @property
    def partner(self) -> str: ...
    @property
    def ad(self) -> Optional[str]: ...
    @property
    def sid(self) -> Optional[str]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Session:
    """A verified session token's claims."""

    @property
    def click_id(self) -> str: ...
    @property
    def campaign(self) -> str: ...
    @property
    def partner(self) -> str: ...
    @property
    def ad(self) -> Optional[str]: ...
    @property
    def sid(self) -> Optional[str]: ...
    @property
    def issued_at(self) -> datetime.datetime: ...
    @property
    def expires_at(self) -> datetime.datetime: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class MemoryStore:
    """Keeps everything in memory; nothing survives the process."""

    def __new__(cls) -> MemoryStore: ...

@final
class SledStore:
    """The embedded database in a directory (created when missing); one process at a
    time opens it (another gets a ``StoreError``: several processes share a ``PostgresStore``)."""

    def __new__(cls, path: Union[str, os.PathLike[str]]) -> SledStore: ...
    @property
    def path(self) -> os.PathLike[str]: ...

@final
class PostgresStore:
    """A PostgreSQL database shared by any number of processes (gunicorn or uWSGI workers)
    and servers; ``ca_file`` is the PEM CA the server's certificate must chain to."""

    def __new__(
        cls, url: str, ca_file: Optional[Union[str, os.PathLike[str]]] = None
    ) -> PostgresStore: ...

@final
class FixedClock:
    """A clock that moves only when told."""

    def __new__(cls, now: _Instant) -> FixedClock: ...
    def set(self, now: _Instant) -> None: ...
    def advance(self, seconds: int) -> None: ...
    @property
    def now(self) -> datetime.datetime: ...

@final
class Click:
    """What a click produced."""

    @property
    def bot(self) -> bool:
        """True for a bot's, crawler's or link preview's click: no token, no cookie, no commission."""
        ...
    @property
    def token(self) -> Optional[str]: ...
    @property
    def set_cookie(self) -> Optional[str]:
        """None for a bot, and when the campaign waits for the visitor's consent."""
        ...
    @property
    def location(self) -> str:
        """The link's allowed ``to=`` target, else the campaign's destination; with the token (a bot's: without)."""
        ...
    @property
    def click_id(self) -> Optional[str]: ...
    @property
    def unique(self) -> bool: ...
    @property
    def kept_earlier(self) -> bool: ...
    @property
    def dropped_sid(self) -> bool: ...
    @property
    def refused_to(self) -> Optional[str]:
        """Why the link's ``to=`` target was not followed (the visitor landed on the destination), if it was not."""
        ...

@final
class LandingRedirect:
    """The answer to a landing with a fresh, valid token: a 302 to the clean URL with the cookie."""

    @property
    def location(self) -> str:
        """The same path and query without the token (on the shop's own site)."""
        ...
    @property
    def set_cookie(self) -> str: ...
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> List[Tuple[str, str]]:
        """``Location``, ``Set-Cookie`` and ``Cache-Control: no-store``."""
        ...

@final
class Commission:
    """One partner's share of a conversion."""

    @property
    def partner(self) -> str: ...
    @property
    def level(self) -> int: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...

@final
class Conversion:
    """A recorded conversion (or the replay of one: ``duplicate`` is then true)."""

    @property
    def order_id(self) -> str: ...
    @property
    def kind(self) -> Kind:
        """``"sale"``, ``"lead"`` or a named action (``"signup"``)."""
        ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...
    @property
    def campaign(self) -> str: ...
    @property
    def partner(self) -> str: ...
    @property
    def ad(self) -> Optional[str]: ...
    @property
    def sid(self) -> Optional[str]: ...
    @property
    def click_id(self) -> Optional[str]: ...
    @property
    def status(self) -> ConversionStatus: ...
    @property
    def duplicate(self) -> bool: ...
    @property
    def replaced(self) -> bool:
        """True when this answer replaced an earlier record of the order id."""
        ...
    @property
    def channel(self) -> Channel:
        """``browser``, ``signed_browser``, ``server`` or ``manual``."""
        ...
    @property
    def evidence(self) -> Evidence:
        """What attributed it: ``token``, ``click_id``, ``coupon``, ``customer`` or ``manual``."""
        ...
    @property
    def customer_id(self) -> Optional[str]: ...
    @property
    def converted_at(self) -> datetime.datetime: ...
    @property
    def commission(self) -> Decimal: ...
    @property
    def refunded(self) -> Decimal:
        """What the refunds total (0 when none)."""
        ...
    @property
    def net_amount(self) -> Decimal:
        """The amount net of refunds."""
        ...
    @property
    def commissions(self) -> List[Commission]: ...
    def to_dict(self) -> Dict[str, object]: ...

@final
class Tracker:
    """Verifies clicks, issues tokens and cookies, and attributes conversions exactly
    once over a store. Safe to share between threads."""

    def __new__(
        cls,
        keys: Keyring,
        *,
        store: Union[MemoryStore, SledStore, PostgresStore],
        base_url: str,
        cookie_domain: Optional[str] = None,
        secure: Optional[bool] = None,
        cookie_name: str = "aff_token",
        skew_secs: int = 60,
        clock: Optional[FixedClock] = None,
    ) -> Tracker: ...
    @property
    def base_url(self) -> str: ...
    @property
    def cookie_name(self) -> str: ...
    @property
    def campaigns(self) -> List[str]: ...
    @property
    def partners(self) -> List[str]: ...
    def add_campaign(
        self,
        code: str,
        *,
        destination: str,
        currency: str,
        cookie_days: int = 30,
        attribution: Attribution = "last",
        min_seconds_to_convert: int = 0,
        sale_percent: Optional[_Amount] = None,
        sale_flat: Optional[_Amount] = None,
        lead_flat: Optional[_Amount] = None,
        click_flat: Optional[_Amount] = None,
        impression_per_mille: Optional[_Amount] = None,
        override_percents: Sequence[_Amount] = ...,
        recurring_months: int = 0,
        status: CampaignStatus = "active",
        approve_after_days: int = 0,
        auto_approve_unsigned: bool = False,
        deep_link_hosts: Sequence[str] = ...,
        click_commission: ClickCommission = "unique",
        daily_paid_click_cap: int = 0,
        daily_paid_impression_cap: int = 0,
        cookie_consent: CookieConsent = "not_required",
    ) -> None:
        """Adds or replaces a campaign, kept in the store."""
        ...
    def campaign(self, code: str) -> Optional[Dict[str, _Json]]:
        """The campaign as a dict (its fields and ``managed_by_config``), or ``None``."""
        ...
    def update_campaign(self, code: str, **changes: _Change) -> Dict[str, _Json]:
        """Changes a campaign (``status="paused"``); ``None`` resets a field."""
        ...
    def partner(self, code: str) -> Optional[Dict[str, _Json]]:
        """The partner as a dict (code, parent, status, profile, coupons, ``managed_by_config``)."""
        ...
    def update_partner(self, code: str, **changes: _Change) -> Dict[str, _Json]:
        """Changes a partner (``status="suspended"``, ``parent=None``)."""
        ...
    def list_partners(
        self,
        *,
        status: Optional[PartnerStatus] = None,
        parent: Optional[str] = None,
        limit: int = 100,
        cursor: Optional[str] = None,
    ) -> Tuple[List[Dict[str, _Json]], Optional[str]]:
        """One page of partners by code and the cursor of the next (``None`` on the last)."""
        ...
    def add_coupon(
        self, partner: str, code: str, *, campaign: Optional[str] = None
    ) -> Dict[str, _Json]: ...
    def remove_coupon(self, code: str) -> Dict[str, _Json]: ...
    def coupons(self, partner: Optional[str] = None) -> List[Dict[str, _Json]]: ...
    def add_ad(
        self,
        partner: str,
        code: str,
        *,
        name: str,
        description: Optional[str] = None,
        media_type: MediaType = "text",
        starts_on: Optional[_Day] = None,
    ) -> Dict[str, _Json]: ...
    def ads(self, partner: str) -> List[Dict[str, _Json]]: ...
    def link(
        self,
        campaign: str,
        partner: str,
        *,
        ad: Optional[str] = None,
        sid: Optional[str] = None,
        to: Optional[str] = None,
    ) -> str:
        """A signed link; ``to`` makes it a deep link to a page on one of the campaign's ``deep_link_hosts``."""
        ...
    def list_conversions(
        self,
        *,
        status: Optional[ConversionStatus] = None,
        partner: Optional[str] = None,
        campaign: Optional[str] = None,
        from_day: Optional[_Day] = None,
        to_day: Optional[_Day] = None,
        limit: int = 100,
        cursor: Optional[str] = None,
    ) -> Tuple[List[Conversion], Optional[str]]:
        """One page of conversions, newest first, and the cursor of the next."""
        ...
    def balances(
        self, *, partner: Optional[str] = None, currency: Optional[str] = None
    ) -> List[Dict[str, Union[str, Decimal]]]:
        """What each beneficiary earns: ``pending``, ``payable``, ``in_payout``, ``paid``, ``clawback``."""
        ...
    def approve_due(self) -> int:
        """Approves pending conversions past their campaign's ``approve_after_days``."""
        ...
    def erase_customer(self, customer_id: str) -> Dict[str, int]:
        """Erases a customer (GDPR Art. 17): its binding goes and the id leaves every
        conversion, event and delivery; returns ``{"conversions", "bindings", "events"}`` counts."""
        ...
    def prune_clicks(self, retention_days: int = 400) -> int:
        """Removes click records older than ``retention_days`` (at least the longest
        campaign window); reports stay as they were. Returns how many were removed."""
        ...
    def run_housekeeping(
        self,
        retention_days: int = 400,
        *,
        send: Optional[
            Callable[[str, str, List[Tuple[str, str]], Optional[str]], int]
        ] = None,
    ) -> Dict[str, Any]:
        """Runs every housekeeping chore once now (reload, approve due, prune clicks and
        delivery logs; with ``send``, the shop's HTTP client ``send(method, url,
        headers, body) -> status``, also fan out the outbox and send the due webhook
        and postback deliveries): ``{"refreshed", "approved", "clicks_pruned",
        "deliveries_pruned", "failed": [{"chore", "error"}]}``, with ``send`` also
        ``"fanned_out"``, ``"sent"``, ``"delivered"``."""
        ...
    def create_postback_key(self, label: str = "") -> Tuple[Dict[str, _Json], str]:
        """A postback key for a hosted cart: ``({"id", "label", "created"}, "pbk_…")``;
        the key is shown this once, only its digest is stored."""
        ...
    def postback_keys(self) -> List[Dict[str, _Json]]:
        """The postback keys' ids, labels and creation times (never the keys)."""
        ...
    def revoke_postback_key(self, id: str) -> None: ...
    def postback(self, query: str) -> Conversion:
        """Records a hosted cart's postback URL query (``key=pbk_…&order_id=…&amount=…&currency=…``);
        ``Unauthorized`` without a valid key, ``Malformed`` for a bad query."""
        ...
    def create_payouts(
        self,
        currency: str,
        *,
        idempotency_key: str,
        up_to: Optional[_Day] = None,
        min_amount: Optional[_Amount] = None,
        partner: Optional[str] = None,
    ) -> List[_Payout]:
        """One payout per partner owed at least ``min_amount``; the same key returns the same payouts."""
        ...
    def adjust(
        self,
        partner: str,
        *,
        currency: str,
        amount: _Amount,
        memo: str,
        kind: Literal["bonus", "correction"],
        idempotency_key: str,
        allow_negative: bool = False,
    ) -> Dict[str, Any]:
        """A bonus or a correction of ``partner``'s balance (a negative ``amount`` takes
        money back); the same key and arguments return it again with ``replayed``."""
        ...
    def close_traffic(self) -> Dict[str, int]:
        """Writes the click and impression earnings of the UTC days that are over (an
        hour after midnight UTC) to the ledger, once; returns ``{"days", "written",
        "approved"}``."""
        ...
    def traffic(
        self,
        *,
        partner: Optional[str] = None,
        from_day: Optional[_Day] = None,
        to_day: Optional[_Day] = None,
    ) -> List[Dict[str, Any]]:
        """The traffic entries in the ledger, by day, campaign, partner and level; each
        ``{"day" (date), "campaign", "partner", "beneficiary", "level", "kind",
        "currency", "amount" (Decimal, signed), "state", "payout"}``."""
        ...
    def reject_traffic(
        self, day: _Day, campaign: str, partner: str
    ) -> List[Dict[str, Any]]:
        """Rejects a partner's click and impression earnings of one day in one campaign:
        void before a payout, owed back after."""
        ...
    def adjustments(
        self, *, partner: Optional[str] = None, currency: Optional[str] = None
    ) -> List[Dict[str, Any]]:
        """The adjustments, newest first, each with its signed ``amount`` and ``memo``."""
        ...
    def payout_skips(
        self,
        currency: str,
        *,
        up_to: Optional[_Day] = None,
        min_amount: Optional[_Amount] = None,
        partner: Optional[str] = None,
    ) -> List[Dict[str, Any]]:
        """The partners with payable money a run passes over now, and why
        (``below_minimum``, ``owes_back``, ``too_large``)."""
        ...
    def payouts(
        self,
        *,
        partner: Optional[str] = None,
        currency: Optional[str] = None,
        status: Optional[PayoutStatus] = None,
    ) -> List[_Payout]:
        """The payouts, newest first."""
        ...
    def payout(self, id: str) -> _Payout:
        """One payout with its ``items``."""
        ...
    def set_payout_status(self, id: str, status: Literal["paid", "failed"]) -> _Payout:
        """Marks a pending payout ``"paid"`` or ``"failed"``."""
        ...
    def portal_link(self, partner: str, *, ttl_secs: Optional[int] = None) -> str:
        """A single-use portal sign-in link for the partner (default 15 minutes)."""
        ...
    def create_partner_key(self, partner: str) -> Dict[str, Any]:
        """A new API key: ``{id, partner, created, key}``; ``key`` is shown this once."""
        ...
    def revoke_partner_key(self, partner: str, id: str) -> None: ...
    def create_webhook(
        self,
        url: str,
        *,
        id: Optional[str] = None,
        events: Optional[List[str]] = None,
        description: Optional[str] = None,
    ) -> Dict[str, Any]:
        """A webhook endpoint ``{id, url, events, description, created, secret}``;
        ``secret`` (``whsec_…``) is shown this once."""
        ...
    def webhooks(self) -> List[Dict[str, Any]]:
        """The webhook endpoints, never their secrets."""
        ...
    def delete_webhook(self, id: str) -> None: ...
    def webhook_deliveries(
        self, id: str, *, cursor: Optional[str] = None, limit: int = 100
    ) -> Dict[str, Any]:
        """A webhook's delivery log, newest first: ``{deliveries, next_cursor}``."""
        ...
    def retry_delivery(self, webhook: str, delivery: str) -> Dict[str, Any]:
        """Sends a delivery again now, with another 3 days of retries."""
        ...
    def fan_out(self, max: int = 500) -> int:
        """Fans the store's outbox out into deliveries; returns how many events it took."""
        ...
    def allow_private_destinations(self, allow: bool) -> None:
        """Lets events go to loopback and private addresses (tests, intranets)."""
        ...
    def payouts_csv(
        self,
        *,
        partner: Optional[str] = None,
        currency: Optional[str] = None,
        status: Optional[PayoutStatus] = None,
    ) -> str: ...
    def refund(self, order_id: str, *, refund_id: str, amount: _Amount) -> Conversion:
        """Records a refund of part or all of an order: each beneficiary gives back its
        share (rounded down per level); the whole amount makes it ``reversed``. The same
        ``refund_id`` and amount again returns it with ``duplicate`` set."""
        ...
    def set_statuses(self, order_ids: Sequence[str], status: ConversionStatus) -> List[Dict[str, _Json]]:
        """Each order on its own: ``{order_id, status}`` or ``{order_id, error}``."""
        ...
    def conversions_csv(
        self,
        *,
        status: Optional[ConversionStatus] = None,
        partner: Optional[str] = None,
        campaign: Optional[str] = None,
        from_day: Optional[_Day] = None,
        to_day: Optional[_Day] = None,
    ) -> str: ...
    def stats_csv(
        self,
        group_by: Sequence[Dimension] = ...,
        *,
        from_day: Optional[_Day] = None,
        to_day: Optional[_Day] = None,
        campaign: Optional[str] = None,
        partner: Optional[str] = None,
    ) -> str: ...
    def add_partner(
        self,
        code: str,
        *,
        parent: Optional[str] = None,
        coupons: Sequence[str] = ...,
        status: PartnerStatus = "active",
        name: Optional[str] = None,
        email: Optional[str] = None,
        payout_details: Optional[str] = None,
        postback_url: Optional[str] = None,
    ) -> None:
        """Adds or replaces a partner, kept in the store; ``status`` is ``"active"`` or ``"suspended"``."""
        ...
    def click(
        self, url: str, *, prior_token: Optional[str] = None, user_agent: Optional[str] = None
    ) -> Click: ...
    def impression(self, url: str) -> None: ...
    def verify_token(self, token: str) -> Session: ...
    def set_cookie_for(self, token: str) -> str:
        """The ``Set-Cookie`` value keeping a landing token (issued at most 10 minutes ago) until its expiry."""
        ...
    def landing(self, method: str, path: str, query: str) -> Optional[LandingRedirect]:
        """The landing step for one request (what ``affiliate_sdk.wsgi`` and ``.asgi``
        call): a fresh, valid token in the query gives the redirect to send; ``None``
        without a token; raises for a stale, forged or mangled one (serve the page as asked)."""
        ...
    def convert(
        self,
        order_id: str,
        *,
        amount: Optional[_Amount] = None,
        currency: str,
        kind: Kind = "sale",
        token: Optional[str] = None,
        click_id: Optional[str] = None,
        coupon: Optional[str] = None,
        customer_id: Optional[str] = None,
        campaign: Optional[str] = None,
    ) -> Conversion: ...
    def manual(
        self,
        order_id: str,
        *,
        amount: Optional[_Amount] = None,
        currency: str,
        kind: Kind = "sale",
        campaign: str,
        partner: str,
        ad: Optional[str] = None,
        sid: Optional[str] = None,
        customer_id: Optional[str] = None,
    ) -> Conversion: ...
    def set_status(self, order_id: str, status: ConversionStatus) -> Conversion:
        """Moves a conversion: ``pending → approved → paid``, ``pending | approved →
        rejected``, ``approved | paid → reversed``; ``InvalidTransition`` otherwise."""
        ...
    def conversion(self, order_id: str) -> Conversion: ...
    def replaced_conversions(self, order_id: str) -> List[Conversion]:
        """The records an authenticated channel replaced under ``order_id``, oldest first."""
        ...
    def stats(
        self,
        group_by: Sequence[Dimension] = ...,
        *,
        from_day: Optional[_Day] = None,
        to_day: Optional[_Day] = None,
        campaign: Optional[str] = None,
        partner: Optional[str] = None,
    ) -> List[StatsRow]:
        """One row per group of ``group_by`` (none: one row of totals)."""
        ...
    def flush(self) -> None: ...

def parse_cookie_header(header: str, name: str = "aff_token") -> Optional[str]: ...
def set_cookie_header(
    token: str,
    max_age: int,
    *,
    name: str = "aff_token",
    domain: Optional[str] = None,
    secure: bool = False,
) -> str: ...
