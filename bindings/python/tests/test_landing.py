"""The landing middleware (`affiliate_sdk.wsgi`, `affiliate_sdk.asgi`) in real Flask,
Django and FastAPI apps: a fresh token in the landing URL becomes an HttpOnly
first-party cookie set by the app's own response, and the visitor lands on the clean
URL; a stale, forged or missing token changes nothing."""

from __future__ import annotations

import sys
import types
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
from fastapi import FastAPI, Request  # at module level: FastAPI reads the annotations

import affiliate_sdk.asgi
import affiliate_sdk.wsgi
from affiliate_sdk import FixedClock, LinkSigner, Tracker

#: (status, headers by lower-case name, body) of one GET.
Answer = Tuple[int, Dict[str, List[str]], str]
#: A request (path and query, a Cookie header or none, the method: GET by default).
Get = Callable[..., Answer]


def page(path: str, query: str, cookie: Optional[str]) -> str:
    """What every test app's page shows: the request as the app saw it."""
    return f"{path}?{query}|cookie={cookie or '-'}"


def flask_app(tracker: Tracker) -> Get:
    from flask import Flask, request
    from werkzeug.test import Client

    app = Flask("landing_test")

    @app.route("/products/<sku>", methods=["GET", "POST"])
    def product(sku: str) -> str:
        return page(request.path, request.query_string.decode(), request.cookies.get("aff_token"))

    # The one line a Flask shop adds.
    app.wsgi_app = affiliate_sdk.wsgi.LandingMiddleware(app.wsgi_app, tracker)  # type: ignore[method-assign]
    return werkzeug_get(Client(app, use_cookies=False))


def django_setup() -> None:
    """A one-view Django project, set up once per process."""
    import django
    from django.conf import settings
    from django.http import HttpRequest, HttpResponse
    from django.urls import path as route

    if settings.configured:
        return

    def product(request: HttpRequest, sku: str) -> HttpResponse:
        return HttpResponse(page(request.path, request.META.get("QUERY_STRING", ""),
                                 request.COOKIES.get("aff_token")))

    urls = types.ModuleType("landing_test_urls")
    urls.urlpatterns = [route("products/<str:sku>", product)]  # type: ignore[attr-defined]
    sys.modules[urls.__name__] = urls
    settings.configure(SECRET_KEY="landing-test", ROOT_URLCONF=urls.__name__,
                       ALLOWED_HOSTS=["localhost"], MIDDLEWARE=[], INSTALLED_APPS=[])
    django.setup()


def django_app(tracker: Tracker) -> Get:
    from django.core.wsgi import get_wsgi_application
    from werkzeug.test import Client

    django_setup()
    # Django's wsgi.py: the application, wrapped.
    application = affiliate_sdk.wsgi.LandingMiddleware(get_wsgi_application(), tracker)
    return werkzeug_get(Client(application, use_cookies=False))


def django_asgi_app(tracker: Tracker) -> Get:
    from django.core.asgi import get_asgi_application

    django_setup()
    # Django's asgi.py: the application, wrapped.
    return asgi_get(affiliate_sdk.asgi.LandingMiddleware(get_asgi_application(), tracker))


def fastapi_app(tracker: Tracker) -> Get:
    from fastapi.responses import PlainTextResponse

    app = FastAPI()

    @app.api_route("/products/{sku}", methods=["GET", "POST"], response_class=PlainTextResponse)
    def product(sku: str, request: Request) -> str:
        return page(request.url.path, request.url.query, request.cookies.get("aff_token"))

    # The one line a FastAPI shop adds.
    app.add_middleware(affiliate_sdk.asgi.LandingMiddleware, tracker=tracker)
    return asgi_get(app)


def asgi_get(app: Any) -> Get:
    from fastapi.testclient import TestClient

    client = TestClient(app, base_url="http://localhost", follow_redirects=False)

    def get(target: str, cookie: Optional[str], method: str = "GET") -> Answer:
        r = client.request(method, target, headers={"Cookie": cookie} if cookie else {})
        headers: Dict[str, List[str]] = {}
        for k, v in r.headers.multi_items():
            headers.setdefault(k.lower(), []).append(v)
        return r.status_code, headers, r.text

    return get


def werkzeug_get(client: "object") -> Get:
    from werkzeug.test import Client

    assert isinstance(client, Client)

    def get(target: str, cookie: Optional[str], method: str = "GET") -> Answer:
        r = client.open(target, method=method, headers={"Cookie": cookie} if cookie else {})
        headers: Dict[str, List[str]] = {}
        for k, v in r.headers.items():
            headers.setdefault(k.lower(), []).append(v)
        return r.status_code, headers, r.get_data(as_text=True)

    return get


FRAMEWORKS = {
    "flask": flask_app,
    "django": django_app,
    "django-asgi": django_asgi_app,
    "fastapi": fastapi_app,
}


@pytest.fixture(params=sorted(FRAMEWORKS))
def app(request: pytest.FixtureRequest, tracker: Tracker) -> Iterator[Get]:
    yield FRAMEWORKS[request.param](tracker)


def test_a_fresh_token_becomes_a_first_party_cookie_and_the_visitor_lands_on_the_clean_url(
    app: Get, tracker: Tracker, signer: LinkSigner, clock: FixedClock
) -> None:
    token = tracker.click(signer.build("haircare", "abc123")).token
    assert token is not None
    clock.advance(30)
    status, headers, body = app(f"/products/shampoo?color=red&aff_token={token}&size=l%20x", None)
    assert status == 302, body
    assert headers["location"] == ["/products/shampoo?color=red&size=l%20x"]
    [cookie] = headers["set-cookie"]
    assert cookie.startswith(f"aff_token={token};")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert f"Max-Age={28 * 86_400 - 30}" in cookie
    assert headers["cache-control"] == ["no-store"]
    # The clean URL, with the cookie: the app serves the page and reads the token.
    status, headers, body = app(headers["location"][0], f"aff_token={token}")
    assert status == 200 and "set-cookie" not in headers
    assert body == f"/products/shampoo?color=red&size=l%20x|cookie={token}"
    assert tracker.verify_token(body.split("cookie=")[1]).partner == "abc123"


@pytest.mark.parametrize("case", ["stale", "forged", "mangled", "missing", "post"])
def test_a_stale_forged_or_missing_token_changes_nothing(
    app: Get, tracker: Tracker, signer: LinkSigner, clock: FixedClock, case: str
) -> None:
    earlier = tracker.click(signer.build("haircare", "mid1")).token
    token = tracker.click(signer.build("haircare", "abc123")).token
    assert token is not None and earlier is not None
    method = "GET"
    if case == "stale":
        clock.advance(11 * 60)  # a shared or posted link, opened later
        query = f"aff_token={token}&color=red"
    elif case == "forged":
        forged = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
        query = f"aff_token={forged}&color=red"
    elif case == "mangled":
        query = "aff_token=v1.%FF%00&color=red"
    elif case == "missing":
        query = "color=red"
    else:
        query = f"aff_token={token}&color=red"
        method = "POST"
    # The visitor already carries an earlier partner's cookie: it stays as it is.
    status, headers, body = app(f"/products/shampoo?{query}", f"aff_token={earlier}", method)
    assert status == 200, body
    assert "set-cookie" not in headers and "location" not in headers
    assert body == f"/products/shampoo?{query}|cookie={earlier}"


def test_the_clean_url_never_leaves_the_shop(tracker: Tracker, signer: LinkSigner) -> None:
    token = tracker.click(signer.build("haircare", "abc123")).token
    answers: List[Tuple[str, List[Tuple[str, str]]]] = []

    def start_response(status: str, headers: List[Tuple[str, str]]) -> None:
        answers.append((status, headers))

    def app(environ: object, start: object) -> List[bytes]:
        raise AssertionError("a landing is answered by the middleware")

    mw = affiliate_sdk.wsgi.LandingMiddleware(app, tracker)
    for environ in (
        {"REQUEST_METHOD": "GET", "PATH_INFO": "//evil.example/x", "QUERY_STRING": f"aff_token={token}"},
        {"REQUEST_METHOD": "GET", "RAW_URI": "/\\evil.example?aff_token=x", "PATH_INFO": "/",
         "QUERY_STRING": f"aff_token={token}"},
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/caf\u00c3\u00a9 100%", "QUERY_STRING": f"aff_token={token}"},
    ):
        assert mw(environ, start_response) == [b""]  # type: ignore[arg-type]
    locations = [dict(h)["Location"] for _, h in answers]
    assert locations == ["/evil.example/x", "/evil.example", "/caf%C3%A9%20100%25"]
    with pytest.raises(TypeError, match="affiliate_sdk.Tracker"):
        affiliate_sdk.wsgi.LandingMiddleware(app, "not a tracker")  # type: ignore[arg-type]
