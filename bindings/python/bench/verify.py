"""Token and link verification per second through affiliate_sdk, against itsdangerous
(URLSafeTimedSerializer) and PyJWT (HS256) verifying the same claims, in this process.

    python bindings/python/bench/verify.py           # 5 rounds of ~0.5 s per case
    python bindings/python/bench/verify.py --quick   # one short round (CI smoke run)

Prints each rate (the median round) and the ratios. Target: affiliate_sdk at least 5x
faster than both peers, for tokens and for links.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable, Dict, List

import itsdangerous
import jwt

import affiliate_sdk as sdk

CLICK_ID = "018bcfe5-6800-7000-8000-000000000001"
CLAIMS = {
    "click_id": CLICK_ID,
    "campaign": "haircare",
    "partner": "abc123",
    "ad": "website2",
    "sid": "kw1",
}


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of `fn`, over batches until `seconds` have passed."""
    batch, calls = 1000, 0
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            fn()
        calls += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one short round (smoke run)")
    args = ap.parse_args()
    rounds, seconds = (1, 0.1) if args.quick else (5, 0.5)

    secret = bytes(range(32))
    keys = sdk.Keyring({"k1": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}, current="k1")
    now = int(time.time())
    exp = now + 28 * 86_400
    token = keys.issue_token(CLICK_ID, "haircare", "abc123", ad="website2", sid="kw1",
                             issued_at=now, expires_at=exp)
    signer = sdk.LinkSigner(keys, "https://t.shop.example/go")
    link = signer.build("haircare", "abc123", ad="website2", sid="kw1")

    serializer = itsdangerous.URLSafeTimedSerializer(secret, salt="aff-token")
    its_token = serializer.dumps(CLAIMS)
    jwt_token = jwt.encode({**CLAIMS, "iat": now, "exp": exp}, secret, algorithm="HS256")

    # Every verifier must accept its input and read the same partner before it is timed.
    assert keys.verify_token(token).partner == "abc123"
    assert signer.verify(link).sid == "kw1"
    assert serializer.loads(its_token, max_age=28 * 86_400)["partner"] == "abc123"
    assert jwt.decode(jwt_token, secret, algorithms=["HS256"])["partner"] == "abc123"

    # Each case verifies and reads the partner, as a caller would: our answers build
    # their Python strings on access, the peers' dicts hold them already.
    cases: Dict[str, Callable[[], object]] = {
        "affiliate_sdk Keyring.verify_token": lambda: keys.verify_token(token).partner,
        "affiliate_sdk LinkSigner.verify": lambda: signer.verify(link).partner,
        "itsdangerous URLSafeTimedSerializer.loads": lambda: serializer.loads(
            its_token, max_age=28 * 86_400
        )["partner"],
        "PyJWT decode HS256": lambda: jwt.decode(jwt_token, secret, algorithms=["HS256"])[
            "partner"
        ],
    }
    results: Dict[str, List[float]] = {name: [] for name in cases}
    for _ in range(rounds):  # interleaved, so drift hits every case alike
        for name, fn in cases.items():
            results[name].append(rate(fn, seconds))
    median = {name: statistics.median(r) for name, r in results.items()}

    print(f"token: {len(token)} bytes; itsdangerous: {len(its_token)}; JWT: {len(jwt_token)}")
    width = max(map(len, median))
    for name, r in median.items():
        print(f"{name:<{width}}  {r:>12,.0f} /s  ({1e6 / r:6.2f} us)")
    ours = {
        "token": median["affiliate_sdk Keyring.verify_token"],
        "link": median["affiliate_sdk LinkSigner.verify"],
    }
    for peer in ("itsdangerous URLSafeTimedSerializer.loads", "PyJWT decode HS256"):
        for what, r in ours.items():
            ratio = r / median[peer]
            verdict = "meets" if ratio >= 5 else "BELOW"
            print(f"{what} verify vs {peer}: {ratio:5.1f}x faster ({verdict} the 5x target)")


if __name__ == "__main__":
    main()
