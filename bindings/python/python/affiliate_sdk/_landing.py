"""What the WSGI and ASGI landing middleware share: the request's path as sent, and
the one call to the tracker."""

from __future__ import annotations

import logging
from typing import Optional
from urllib.parse import quote

from ._native import LandingRedirect, Tracker
from .errors import AffiliateError

log = logging.getLogger("affiliate_sdk.landing")

#: What stays as written when a decoded path is encoded again (RFC 3986 path characters).
_PATH_SAFE = "/:@!$&'()*+,;=~"


def text(raw: bytes) -> str:
    """Bytes off the wire as text: UTF-8, anything else replaced (then percent-encoded)."""
    return raw.decode("utf-8", "replace")


def encode_path(decoded: str) -> str:
    """A decoded path (WSGI's `PATH_INFO`, ASGI's `path`) written as a URL path again."""
    return quote(decoded, safe=_PATH_SAFE)


def decide(tracker: Tracker, method: str, path: str, query: str) -> Optional[LandingRedirect]:
    """The tracker's landing decision; a refused token (forged, stale, mangled) is
    logged by its code (never the token) and changes nothing."""
    if not query:
        return None
    try:
        return tracker.landing(method, path, query)
    except AffiliateError as e:
        log.info("landing token refused: %s", e.code)
        return None
