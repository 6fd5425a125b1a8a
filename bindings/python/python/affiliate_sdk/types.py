"""The names of the package's string values and the shape of a stats row, for type
checkers. Each ``Literal`` lists every value the package gives or takes; mypy and
pyright then catch a misspelt status or kind before it reaches the tracker (which
refuses it with ``Malformed`` at run time)."""

from __future__ import annotations

from decimal import Decimal
from typing import Dict, Literal, Optional, TypedDict, Union

__all__ = [
    "Attribution",
    "CampaignStatus",
    "Channel",
    "ClickCommission",
    "ConversionKind",
    "ConversionStatus",
    "CookieConsent",
    "Dimension",
    "Evidence",
    "Kind",
    "MediaType",
    "PartnerStatus",
    "PayoutStatus",
    "StatsRow",
]

#: A conversion's built-in kinds: a ``"sale"`` is paid by the campaign's sale plan, a
#: ``"lead"`` its lead flat amount.
ConversionKind = Literal["sale", "lead"]
#: A conversion's kind: ``"sale"``, ``"lead"``, or a named action (``"signup"``,
#: ``"trial"``: a code of letters, digits, ``_`` and ``-``), reported and paid as a lead.
Kind = Union[ConversionKind, str]
#: A conversion's review status. Every new conversion is ``"pending"``; the moves are
#: ``pending → approved → paid``, ``pending | approved → rejected`` and
#: ``approved | paid → reversed`` (the commission is clawed back).
ConversionStatus = Literal["pending", "approved", "paid", "rejected", "reversed"]
#: Which click a campaign credits: the ``"last"`` (default) or the ``"first"``.
Attribution = Literal["last", "first"]
#: A campaign's status: a ``"paused"`` campaign's links still land, crediting nobody.
CampaignStatus = Literal["active", "paused"]
#: A partner's status: a ``"suspended"`` partner's links land, crediting nobody.
PartnerStatus = Literal["active", "suspended"]
#: How a conversion reached the tracker.
Channel = Literal["browser", "signed_browser", "server", "manual"]
#: What attributed a conversion, strongest first.
Evidence = Literal["token", "click_id", "coupon", "customer", "manual"]
#: Which clicks a campaign's per-click commission pays: ``"unique"`` (default) or ``"every"``.
ClickCommission = Literal["unique", "every"]
#: Whether a campaign waits for the visitor's consent before setting its cookie.
CookieConsent = Literal["not_required", "required"]
#: An ad's media type.
MediaType = Literal["text", "image", "video", "email"]
#: A payout's status: ``"pending"`` until marked ``"paid"`` or ``"failed"``.
PayoutStatus = Literal["pending", "paid", "failed"]
#: What a report groups by.
Dimension = Literal["campaign", "partner", "ad", "sid", "day"]


class _StatsCounts(TypedDict):
    clicks: int
    unique_clicks: int
    bot_clicks: int
    impressions: int
    leads: int
    sales: int
    #: Revenue by currency code, rejected and reversed conversions left out.
    revenue: Dict[str, Decimal]
    #: Commission by currency code, rejected and reversed conversions left out.
    commission: Dict[str, Decimal]


class StatsRow(_StatsCounts, total=False):
    """One row of ``Tracker.stats``: the dimensions asked for (only those; ``None`` for
    an ad or sid the clicks did not carry), then the counts, and ``revenue`` and
    ``commission`` as ``{currency: Decimal}``."""

    campaign: str
    partner: str
    ad: Optional[str]
    sid: Optional[str]
    #: The UTC day, ``YYYY-MM-DD``.
    day: str
