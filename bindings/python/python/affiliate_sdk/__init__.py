"""affiliate_sdk: embeddable affiliate tracking for Python shops.

Signed tracking links, session tokens and first-party cookies, and conversions
attributed exactly once to the right partner with the right commission, over an
embedded store. The work is done by the Rust core (`affiliate-sdk`); this package is
a thin binding.

>>> from affiliate_sdk import Keyring, LinkSigner
>>> keys = Keyring.generate()
>>> signer = LinkSigner(keys, base_url="https://t.shop.example/go")
>>> url = signer.build("haircare", "abc123", ad="website2", sid="kw1")
>>> link = signer.verify(url)
>>> (link.campaign, link.partner, link.ad, link.sid)
('haircare', 'abc123', 'website2', 'kw1')

Modules: ``affiliate_sdk.wsgi`` and ``affiliate_sdk.asgi`` (the landing middleware),
``affiliate_sdk.errors`` (the exceptions), ``affiliate_sdk.types`` (the ``Literal``
names of statuses and kinds, and ``StatsRow``).
"""

from ._native import (
    DEFAULT_COOKIE_DAYS,
    DEFAULT_COOKIE_NAME,
    DEFAULT_SKEW_SECS,
    Click,
    Commission,
    Conversion,
    FixedClock,
    Keyring,
    LandingRedirect,
    Link,
    LinkSigner,
    MemoryStore,
    PostgresStore,
    Session,
    SledStore,
    Tracker,
    __version__,
    parse_cookie_header,
    set_cookie_header,
)
from .errors import (
    AffiliateError,
    Conflict,
    Expired,
    Forbidden,
    Unauthorized,
    InvalidSignature,
    InvalidTransition,
    Malformed,
    ManagedByConfig,
    NotAttributable,
    NotFound,
    StoreError,
    UnknownCampaign,
    UnknownPartner,
)

__all__ = [
    "DEFAULT_COOKIE_DAYS",
    "DEFAULT_COOKIE_NAME",
    "DEFAULT_SKEW_SECS",
    "AffiliateError",
    "Click",
    "Commission",
    "Conflict",
    "Conversion",
    "Expired",
    "FixedClock",
    "Forbidden",
    "Unauthorized",
    "InvalidSignature",
    "InvalidTransition",
    "Keyring",
    "LandingRedirect",
    "Link",
    "LinkSigner",
    "Malformed",
    "ManagedByConfig",
    "MemoryStore",
    "NotAttributable",
    "NotFound",
    "PostgresStore",
    "Session",
    "SledStore",
    "StoreError",
    "Tracker",
    "UnknownCampaign",
    "UnknownPartner",
    "__version__",
    "parse_cookie_header",
    "set_cookie_header",
]
