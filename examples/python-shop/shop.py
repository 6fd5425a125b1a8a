"""A small Flask shop with affiliate tracking built in (affiliate_sdk).

* ``GET /go/<campaign>/<partner>[/<ad>]?sig=...`` — the shop is its own tracker: the
  click is verified and counted, and the token cookie is set by this server on the
  shop's own domain before the redirect.
* Any page with ``?aff_token=...`` — a landing from a tracker elsewhere (such as
  ``affiliate-server``): ``affiliate_sdk.wsgi.LandingMiddleware`` verifies the token,
  sets the cookie from this server's response and redirects to the clean URL. A cookie
  sent by the server in an HTTP response keeps its full window in Safari, which caps
  cookies written by scripts at 7 days.
* ``POST /checkout`` — the order is converted with the token from the cookie, exactly
  once per order id, so a double submit is harmless.

Run it: ``python examples/python-shop/shop.py`` (data in ./shop-data, port 5000), or
with several workers on PostgreSQL: ``gunicorn -w 4 'shop:from_env()'`` (see `from_env`).
"""

from __future__ import annotations

import hmac
import logging
import os
import pathlib
import uuid
from decimal import Decimal
from typing import Dict, Optional, Tuple, Union

from flask import Flask, Response, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from affiliate_sdk import AffiliateError, Keyring, LinkSigner, PostgresStore, SledStore, Tracker
from affiliate_sdk.wsgi import LandingMiddleware

log = logging.getLogger("shop")

#: The catalogue: prices as decimal strings, never floats.
PRICES: Dict[str, str] = {"shampoo": "12.90", "conditioner": "9.50", "brush": "24.00"}


def create_app(tracker: Tracker, *, admin_token: Optional[str] = None) -> Flask:
    """The shop, tracking through `tracker` (its campaigns and partners added).
    `admin_token` turns on ``GET /admin/stats`` for requests that send it as
    ``Authorization: Bearer …``."""
    app = Flask(__name__)
    param = tracker.cookie_name
    # A landing with a fresh token in the URL: the cookie is set by this server's own
    # response and the visitor goes on to the clean URL. Anything else passes through.
    app.wsgi_app = LandingMiddleware(app.wsgi_app, tracker)  # type: ignore[method-assign]

    @app.get("/go/<campaign>/<partner>")
    @app.get("/go/<campaign>/<partner>/<ad>")
    def click(campaign: str, partner: str, ad: Optional[str] = None) -> BaseResponse:
        try:
            c = tracker.click(
                request.url,
                prior_token=request.cookies.get(param),
                # Bots and link previews land with no token and earn nothing.
                user_agent=request.headers.get("User-Agent", ""),
            )
        except AffiliateError as e:
            log.info("click refused: %s", e.code)
            return Response("unknown or altered link\n", status=404, mimetype="text/plain")
        response = redirect(c.location, code=302)
        # None for a bot, and for a campaign that waits for the visitor's consent.
        if c.set_cookie:
            response.headers.add("Set-Cookie", c.set_cookie)
        return response

    @app.get("/products/<sku>")
    def product(sku: str) -> Union[Response, Tuple[str, int]]:
        if sku not in PRICES:
            return "no such product\n", 404
        order_id = uuid.uuid4().hex
        return Response(
            f"<h1>{sku}</h1><p>{PRICES[sku]} USD</p>"
            f'<form method="post" action="/checkout">'
            f'<input type="hidden" name="order_id" value="{order_id}">'
            f'<input type="hidden" name="sku" value="{sku}"><button>Buy</button></form>',
            mimetype="text/html",
        )

    @app.post("/checkout")
    def checkout() -> Union[Response, Tuple[Response, int]]:
        order_id = request.form.get("order_id", "")
        sku = request.form.get("sku", "")
        if sku not in PRICES or not order_id:
            return jsonify(error="order_id and a known sku are required"), 400
        total = Decimal(PRICES[sku])
        affiliate: Dict[str, object] = {"partner": None}
        token = request.cookies.get(param)
        if token is not None:
            try:
                conv = tracker.convert(order_id, amount=total, currency="USD", token=token)
                affiliate = {
                    "partner": conv.partner,
                    "commission": str(conv.commission),
                    "duplicate": conv.duplicate,
                }
            except AffiliateError as e:
                # The sale stands; only the affiliate credit is refused.
                log.info("order %s not attributed: %s", order_id, e.code)
                affiliate = {"partner": None, "refused": e.code}
        return jsonify(order_id=order_id, total=str(total), affiliate=affiliate)

    @app.get("/admin/stats")
    def stats() -> Union[Response, Tuple[str, int]]:
        """The report by partner, as this worker reads it from the shared store."""
        given = request.headers.get("Authorization", "")
        if admin_token is None or not hmac.compare_digest(given, f"Bearer {admin_token}"):
            return "not found\n", 404
        rows = [
            {**row, "revenue": as_strings(row["revenue"]),
             "commission": as_strings(row["commission"])}
            for row in tracker.stats(["partner"])
        ]
        return jsonify(worker=os.getpid(), rows=rows)

    return app


def as_strings(amounts: Dict[str, Decimal]) -> Dict[str, str]:
    """Money out of the shop: decimal strings, never floats."""
    return {currency: str(amount) for currency, amount in amounts.items()}


def add_program(tracker: Tracker, origin: str) -> None:
    """The shop's one campaign and partner (kept in the store; adding again is harmless)."""
    tracker.add_campaign("haircare", destination=f"{origin}/products/shampoo",
                         currency="USD", cookie_days=28, sale_percent="10")
    tracker.add_partner("abc123")


def from_env() -> Flask:
    """The shop for a process manager with several workers, configured from the
    environment (``gunicorn -w 4 'shop:from_env()'``): every worker opens the same
    PostgreSQL store, so a conversion is recorded once whichever worker takes it.

    ``SHOP_DATABASE_URL`` (``postgres://…``), ``SHOP_KEY_FILE`` (the signing key, base64url),
    ``SHOP_ORIGIN`` (``https://shop.example``), ``SHOP_ADMIN_TOKEN`` (optional: turns on
    ``/admin/stats``)."""
    key = pathlib.Path(os.environ["SHOP_KEY_FILE"]).read_text().strip()
    origin = os.environ["SHOP_ORIGIN"].rstrip("/")
    tracker = Tracker(Keyring({"k1": key}, current="k1"),
                      store=PostgresStore(os.environ["SHOP_DATABASE_URL"]),
                      base_url=f"{origin}/go")
    add_program(tracker, origin)
    logging.basicConfig(level=logging.WARNING)
    app = create_app(tracker, admin_token=os.environ.get("SHOP_ADMIN_TOKEN"))
    worker = str(os.getpid())

    @app.after_request
    def served_by(response: BaseResponse) -> BaseResponse:
        # Which worker process answered (for operators and the load test).
        response.headers["X-Shop-Worker"] = worker
        return response

    return app


def main() -> None:
    data = pathlib.Path(os.environ.get("SHOP_DATA", "./shop-data"))
    data.mkdir(parents=True, exist_ok=True)
    key_file = data / "key"
    if key_file.exists():
        keys = Keyring({"k1": key_file.read_text().strip()}, current="k1")
    else:
        keys = Keyring.generate()
        key_file.write_text(keys.export_keys()["k1"])
        key_file.chmod(0o600)
    base = "http://127.0.0.1:5000/go"
    tracker = Tracker(keys, store=SledStore(data / "sled"), base_url=base)
    add_program(tracker, "http://127.0.0.1:5000")
    print("a tracking link:", LinkSigner(keys, base).build("haircare", "abc123", sid="kw1"))
    logging.basicConfig(level=logging.INFO)
    create_app(tracker).run(host="127.0.0.1", port=5000)


if __name__ == "__main__":
    main()
