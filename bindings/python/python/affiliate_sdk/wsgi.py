"""The landing step as WSGI middleware (Flask, Django, any WSGI app).

A visitor arriving from a tracking link lands on ``/page?aff_token=v1.…``. The
middleware verifies the token and, when it is fresh and valid, answers at once with a
``302`` to the same page without the token and a ``Set-Cookie`` holding it: a
first-party, ``HttpOnly`` cookie set by the shop's own server, which keeps the
campaign's whole window (Safari caps cookies written by scripts at 7 days). A missing,
stale, forged or mangled token changes nothing: the app serves the page as asked and
no cookie is set. Other methods than ``GET`` and ``HEAD`` pass through. No store is
read; the check is a signature verification.

Flask::

    app.wsgi_app = LandingMiddleware(app.wsgi_app, tracker)

Django (``wsgi.py``)::

    application = LandingMiddleware(get_wsgi_application(), tracker)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from . import _landing
from ._native import Tracker

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["LandingMiddleware"]


class LandingMiddleware:
    """Wraps the WSGI ``app``: landings with a fresh token get the cookie and a
    redirect to the clean URL; every other request goes to ``app`` unchanged."""

    def __init__(self, app: "WSGIApplication", tracker: Tracker) -> None:
        if not isinstance(tracker, Tracker):
            raise TypeError(f"tracker must be an affiliate_sdk.Tracker, not {type(tracker).__name__}")
        self.app = app
        self.tracker = tracker

    def __call__(self, environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
        landing = _landing.decide(
            self.tracker,
            environ.get("REQUEST_METHOD", "GET"),
            _path(environ),
            _wire(environ.get("QUERY_STRING", "")),
        )
        if landing is None:
            return self.app(environ, start_response)
        start_response("302 Found", [*landing.headers, ("Content-Length", "0")])
        return [b""]


def _wire(value: str) -> str:
    """A WSGI string (the request's bytes as latin-1) as text."""
    try:
        return _landing.text(value.encode("latin-1"))
    except UnicodeEncodeError:
        return value


def _path(environ: "WSGIEnvironment") -> str:
    # The path as sent, where the server gives it (gunicorn: RAW_URI; uWSGI and others:
    # REQUEST_URI); else the decoded SCRIPT_NAME + PATH_INFO, encoded again.
    for key in ("RAW_URI", "REQUEST_URI"):
        raw = environ.get(key)
        if isinstance(raw, str) and raw.startswith("/"):
            return _wire(raw.split("?", 1)[0])
    decoded = _wire(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
    return _landing.encode_path(decoded or "/")
