#!/usr/bin/env python3
"""Known-answer vectors for links, tokens, cookies and order signatures, from an independent implementation.

This script implements the wire formats from their written description (the module
docs of affiliate-sdk's `link`, `token` and `order`, and docs/formats.md) with nothing but Python's
standard library, and writes `signing.json`. The Rust tests, the Python binding's
tests and the JS package's tests all read that file and must produce the same strings,
so the formats are pinned by two implementations rather than one checking itself.

    python3 generate.py          # rewrite signing.json
    python3 generate.py --check  # fail if signing.json differs from what this computes
"""

import base64
import hashlib
import hmac
import json
import pathlib
import struct
import sys

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "signing.json"

LINK_LABEL = b"affiliate-sdk:link:v1\x00"
TOKEN_LABEL = b"\x00affiliate-sdk:token:v1"  # after the token text, not before
POSTBACK_LABEL = b"affiliate-sdk:postback:v1\x00"
ORDER_LABEL = b"affiliate-sdk:order:v1\x00"
# ISO 4217 minor-unit exponents of the currencies the vectors use.
EXPONENT = {"USD": 2, "EUR": 2, "JPY": 0, "KWD": 3}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


KEYS = {
    "k1": b64(bytes(range(32))),
    "k2": b64(hashlib.sha256(b"affiliate-sdk test key 2").digest() + b"\x01\x02\x03\x04"),
}
BASE = "https://t.shop.example/go"


def key(kid: str) -> bytes:
    text = KEYS[kid]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def tag(kid: str, label: bytes, message: bytes) -> str:
    return b64(hmac.new(key(kid), label + message, hashlib.sha256).digest()[:16])


def lp(text) -> bytes:
    raw = (text or "").encode()
    assert len(raw) <= 64
    return bytes([len(raw)]) + raw


def link_sig(kid, campaign, partner, ad, label=LINK_LABEL):
    return kid + "." + tag(kid, label, lp(kid) + lp(campaign) + lp(partner) + lp(ad))


def link_url(kid, campaign, partner, ad=None, sid=None):
    path = "/".join(p for p in (BASE, campaign, partner, ad) if p)
    url = f"{path}?sig={link_sig(kid, campaign, partner, ad)}"
    return url + (f"&sid={sid}" if sid else "")


def token(kid, click_id, campaign, partner, ad, sid, issued_at, expires_at,
          mac_input=lambda signed: signed + TOKEN_LABEL):
    click = b64(bytes.fromhex(click_id.replace("-", "")))
    signed = f"v1.{kid}.{expires_at}.{issued_at}.{click}.{campaign}.{partner}.{ad or ''}.{sid or ''}"
    return signed + "." + tag(kid, b"", mac_input(signed.encode()))


def canonical_amount(amount: str, currency: str) -> str:
    """The amount with exactly the currency's minor digits ("49.9" USD -> "49.90")."""
    exp = EXPONENT[currency]
    whole, _, frac = amount.partition(".")
    assert whole.isdigit() and (frac == "" or frac.isdigit()) and len(frac) <= exp
    whole = whole.lstrip("0") or "0"
    return whole + ("." + frac.ljust(exp, "0") if exp else "")


def order_sig(kid, order_id, amount, currency, kind, label=ORDER_LABEL):
    fields = lp(kid) + lp_long(order_id) + lp(canonical_amount(amount, currency)) + lp(currency) + lp(kind)
    return kid + "." + tag(kid, label, fields)


def lp_long(text: str) -> bytes:
    raw = text.encode()
    assert len(raw) <= 128
    return bytes([len(raw)]) + raw


T0 = 1_700_000_000
DAY = 86_400
CLICK = "018bcfe5-6800-7a3c-9d2e-0123456789ab"


def links():
    cases = [
        ("k1", "haircare", "abc123", "website2", None),
        ("k1", "haircare", "abc123", None, None),
        ("k1", "haircare", "abc123", "website2", "kw1"),
        ("k2", "spring-sale_2026", "Partner_X", "banner-728x90", "google.ads~kw_7"),
        ("k1", "a", "b", None, "s"),
        ("k1", "ab", "c", None, None),
        ("k1", "a", "bc", None, None),
        ("k2", "C" * 64, "P" * 64, "A" * 64, "s" * 64),
    ]
    return [
        {"kid": kid, "campaign": c, "partner": p, "ad": a, "sid": s,
         "url": link_url(kid, c, p, a, s)}
        for kid, c, p, a, s in cases
    ]


def tokens():
    cases = [
        ("k1", CLICK, "haircare", "abc123", "website2", "kw1", T0, T0 + 28 * DAY),
        ("k1", CLICK, "haircare", "abc123", None, None, T0, T0 + 30 * DAY),
        ("k2", "018bcfe5-6800-7fff-bfff-ffffffffffff", "spring-sale_2026", "Partner_X",
         "banner-728x90", "google.ads~kw_7", T0 + 1, T0 + 1 + 7 * DAY),
        ("k1", CLICK, "campaign", "partner1", "ad000001", "sid00001", T0, T0 + 30 * DAY),
        ("k2", CLICK, "C" * 64, "P" * 64, "A" * 64, "s" * 64, T0, T0 + 3650 * DAY),
        ("k1", CLICK, "x", "y", None, "z", T0, T0),
    ]
    return [
        {"kid": kid, "click_id": cid, "campaign": c, "partner": p, "ad": a, "sid": s,
         "issued_at": iat, "expires_at": exp,
         "token": token(kid, cid, c, p, a, s, iat, exp)}
        for kid, cid, c, p, a, s, iat, exp in cases
    ]


def token_checks(good):
    t = good[0]
    tok, iat, exp = t["token"], t["issued_at"], t["expires_at"]
    args = (t["kid"], t["click_id"], t["campaign"], t["partner"], t["ad"], t["sid"])
    flipped_tag = tok[:-1] + ("A" if tok[-1] != "A" else "B")
    return [
        {"name": "valid at issue", "token": tok, "now": iat, "error": None},
        {"name": "valid one second before expiry", "token": tok, "now": exp - 1, "error": None},
        {"name": "valid within skew after expiry", "token": tok, "now": exp + 59, "error": None},
        {"name": "expired past skew", "token": tok, "now": exp + 60, "error": "expired"},
        {"name": "issued within skew in the future", "token": tok, "now": iat - 60, "error": None},
        {"name": "issued beyond skew in the future", "token": tok, "now": iat - 61, "error": "expired"},
        {"name": "tampered tag", "token": flipped_tag, "now": iat, "error": "invalid_signature"},
        {"name": "link purpose label", "now": iat, "error": "invalid_signature",
         "token": token(*args, iat, exp, mac_input=lambda m: LINK_LABEL + m)},
        {"name": "postback purpose label", "now": iat, "error": "invalid_signature",
         "token": token(*args, iat, exp, mac_input=lambda m: POSTBACK_LABEL + m)},
        {"name": "token label before the text", "now": iat, "error": "invalid_signature",
         "token": token(*args, iat, exp, mac_input=lambda m: TOKEN_LABEL + m)},
        {"name": "no purpose label", "now": iat, "error": "invalid_signature",
         "token": token(*args, iat, exp, mac_input=lambda m: m)},
        {"name": "unknown kid", "now": iat, "error": "invalid_signature",
         "token": tok.replace("v1.k1.", "v1.k9.", 1)},
        {"name": "expiry edited", "now": iat, "error": "invalid_signature",
         "token": tok.replace(f".{exp}.", f".{exp + 1}.", 1)},
        {"name": "version 2", "now": iat, "error": "malformed", "token": "v2" + tok[2:]},
        {"name": "no version", "now": iat, "error": "malformed", "token": tok[3:]},
        # Before the tag verifies only version, kid and tag position are read: edits
        # inside the signed fields are invalid signatures, never parsed.
        {"name": "leading zero in expiry", "now": iat, "error": "invalid_signature",
         "token": tok.replace(f".{exp}.", f".0{exp}.", 1)},
        {"name": "issue time edited", "now": iat, "error": "invalid_signature",
         "token": tok.replace(f".{iat}.", f".{iat - 1}.", 1)},
        {"name": "sid moved into ad", "now": iat, "error": "invalid_signature",
         "token": tok.replace(".website2.kw1.", ".website2kw1..", 1)},
        {"name": "extra part", "now": iat, "error": "malformed", "token": tok + ".x"},
        {"name": "padded tag", "now": iat, "error": "malformed", "token": tok + "=="},
        {"name": "empty", "now": iat, "error": "malformed", "token": ""},
        {"name": "too long", "now": iat, "error": "malformed", "token": "v1.k1.1." + "A" * 600 + "." + "A" * 22},
    ]


def link_checks(good):
    url = good[0]["url"]
    plain = good[1]["url"]
    return [
        {"name": "as built", "url": url, "error": None, "sid": None},
        {"name": "sid appended", "url": url + "&sid=kw.1", "error": None, "sid": "kw.1"},
        {"name": "utm parameters", "url": url + "&utm_source=news&utm_medium=email", "error": None, "sid": None},
        {"name": "path only", "url": url[len("https://t.shop.example"):], "error": None, "sid": None},
        {"name": "other host", "url": url.replace("t.shop.example", "trk.other.example"), "error": None, "sid": None},
        {"name": "partner swapped", "url": url.replace("abc123", "abc124"), "error": "invalid_signature"},
        {"name": "ad removed", "url": url.replace("/website2", ""), "error": "invalid_signature"},
        {"name": "ad added", "url": plain.replace("abc123?", "abc123/website2?"), "error": "invalid_signature"},
        {"name": "unsigned", "url": url.split("?")[0], "error": "malformed"},
        {"name": "sig twice", "url": url + "&" + url.split("?")[1], "error": "malformed"},
        {"name": "unknown kid", "url": url.replace("sig=k1.", "sig=k7."), "error": "invalid_signature"},
        {"name": "token-purpose tag", "error": "invalid_signature",
         "url": url.split("?")[0] + "?sig=" + link_sig("k1", "haircare", "abc123", "website2", TOKEN_LABEL)},
        {"name": "bad sid (strict)", "url": url + "&sid=a%20b", "error": "malformed"},
        {"name": "code with space", "url": url.replace("abc123", "abc%20123"), "error": "malformed"},
        {"name": "too many segments", "url": url.replace("website2", "website2/x"), "error": "malformed"},
        {"name": "outside base path", "url": url.replace("/go/", "/gone/"), "error": "malformed"},
    ]


def orders():
    cases = [
        ("k1", "A-1001", "49.90", "USD", "sale"),
        ("k1", "A-1001", "49.9", "USD", "sale"),
        ("k1", "A-1001", "049.90", "USD", "sale"),
        ("k1", "A-1001", "49.90", "USD", "lead"),
        ("k1", "A-1002", "49.90", "USD", "sale"),
        ("k1", "A-1001", "49.90", "EUR", "sale"),
        ("k2", "order_2026-11-30.x~7", "1000", "JPY", "sale"),
        ("k2", "K-1", "0.5", "KWD", "signup"),
        ("k1", "L-0", "0", "USD", "lead"),
        ("k1", "O" * 128, "184467440737095516.15", "USD", "sale"),
        ("k2", "X!#$%&'()*+,/:;<=>?@[]^`{|}", "1", "EUR", "A" * 64),
    ]
    return [
        {"kid": kid, "order_id": o, "amount": a, "currency": c, "kind": k,
         "osig": order_sig(kid, o, a, c, k)}
        for kid, o, a, c, k in cases
    ]


def order_checks(good):
    g = good[0]
    fields = (g["order_id"], g["amount"], g["currency"], g["kind"])
    osig = g["osig"]
    flipped = osig[:-1] + ("A" if osig[-1] != "A" else "B")
    return [
        {"name": "as made", "osig": osig, "error": None},
        {"name": "tampered tag", "osig": flipped, "error": "invalid_signature"},
        {"name": "unknown kid", "osig": osig.replace("k1.", "k9.", 1), "error": "invalid_signature"},
        {"name": "other key", "osig": order_sig("k2", *fields).replace("k2.", "k1.", 1), "error": "invalid_signature"},
        {"name": "link purpose label", "error": "invalid_signature",
         "osig": order_sig("k1", *fields, label=LINK_LABEL)},
        {"name": "postback purpose label", "error": "invalid_signature",
         "osig": order_sig("k1", *fields, label=POSTBACK_LABEL)},
        {"name": "no purpose label", "error": "invalid_signature",
         "osig": order_sig("k1", *fields, label=b"")},
        {"name": "no kid", "osig": osig.split(".", 1)[1], "error": "malformed"},
        {"name": "padded tag", "osig": osig + "==", "error": "malformed"},
        {"name": "empty", "osig": "", "error": "malformed"},
        {"name": "too long", "osig": "k" * 40 + "." + "A" * 22, "error": "malformed"},
    ]


def cookies(good):
    tok = good[0]["token"]
    return {
        "set_cookie": [
            {"token": tok, "max_age": 28 * DAY, "secure": False, "domain": None,
             "header": f"aff_token={tok}; HttpOnly; SameSite=Lax; Path=/; Max-Age={28 * DAY}"},
            {"token": tok, "max_age": 3600, "secure": True, "domain": ".shop.example",
             "header": f"aff_token={tok}; HttpOnly; SameSite=Lax; Secure; Path=/; Domain=shop.example; Max-Age=3600"},
        ],
        "find": [
            {"header": f"aff_token={tok}", "found": tok},
            {"header": f"theme=dark; aff_token={tok}; cart=3", "found": tok},
            {"header": f"=novalue; ;; junk; aff_token={tok}", "found": tok},
            {"header": f"aff_token=; aff_token={tok}", "found": tok},
            {"header": "theme=dark; other=1", "found": None},
            {"header": "", "found": None},
            {"header": f"x_aff_token={tok}", "found": None},
            {"header": "a=" + "b" * 8200 + f"; aff_token={tok}", "error": "malformed"},
        ],
    }


def build():
    good_links = links()
    good_tokens = tokens()
    good_orders = orders()
    return {
        "about": "Generated by generate.py from the written formats; do not edit by hand.",
        "keys": KEYS,
        "current": "k1",
        "base_url": BASE,
        "skew_secs": 60,
        "links": good_links,
        "link_checks": link_checks(good_links),
        "tokens": good_tokens,
        "token_checks": token_checks(good_tokens),
        "cookies": cookies(good_tokens),
        "orders": good_orders,
        "order_checks": order_checks(good_orders),
    }


def main():
    text = json.dumps(build(), indent=1) + "\n"
    if "--check" in sys.argv[1:]:
        if OUT.read_text() != text:
            sys.exit(f"{OUT} differs from what generate.py computes; run generate.py")
        print(f"{OUT.name}: matches the independent implementation")
    else:
        OUT.write_text(text)
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
