"""The landing step as ASGI middleware (FastAPI, Starlette, Django's ASGI, any ASGI app).

A visitor arriving from a tracking link lands on ``/page?aff_token=v1.…``. The
middleware verifies the token and, when it is fresh and valid, answers at once with a
``302`` to the same page without the token and a ``Set-Cookie`` holding it: a
first-party, ``HttpOnly`` cookie set by the shop's own server, which keeps the
campaign's whole window (Safari caps cookies written by scripts at 7 days). A missing,
stale, forged or mangled token changes nothing: the app serves the page as asked and
no cookie is set. Other methods than ``GET`` and ``HEAD``, websockets and lifespan
events pass through. No store is read, so nothing blocks the event loop.

FastAPI or Starlette::

    app.add_middleware(LandingMiddleware, tracker=tracker)

Django (``asgi.py``)::

    application = LandingMiddleware(get_asgi_application(), tracker)
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, MutableMapping

from . import _landing
from ._native import Tracker

__all__ = ["LandingMiddleware"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class LandingMiddleware:
    """Wraps the ASGI ``app``: landings with a fresh token get the cookie and a
    redirect to the clean URL; every other request goes to ``app`` unchanged."""

    def __init__(self, app: ASGIApp, tracker: Tracker) -> None:
        if not isinstance(tracker, Tracker):
            raise TypeError(f"tracker must be an affiliate_sdk.Tracker, not {type(tracker).__name__}")
        self.app = app
        self.tracker = tracker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        landing = _landing.decide(
            self.tracker,
            scope.get("method", "GET"),
            _path(scope),
            _landing.text(scope.get("query_string", b"")),
        )
        if landing is None:
            await self.app(scope, receive, send)
            return
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in landing.headers]
        headers.append((b"content-length", b"0"))
        await send({"type": "http.response.start", "status": landing.status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def _path(scope: Scope) -> str:
    # The path as sent (raw_path, with the root path in it), else the decoded root_path
    # + path, encoded again.
    raw = scope.get("raw_path")
    if isinstance(raw, (bytes, bytearray)) and raw.startswith(b"/"):
        return _landing.text(bytes(raw))
    decoded = scope.get("root_path", "") + scope.get("path", "")
    return _landing.encode_path(decoded or "/")
