"""Shared fixtures: the core's known-answer vectors, trackers on a fixed clock, and the
affiliate-server binary run on a config."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import subprocess
import tempfile
from typing import Any, Dict, Iterator

import pytest

from affiliate_sdk import FixedClock, Keyring, LinkSigner, MemoryStore, Tracker

ROOT = pathlib.Path(__file__).resolve().parents[3]
VECTORS = ROOT / "affiliate-sdk" / "tests" / "vectors" / "signing.json"
BASE = "https://t.shop.example/go"
#: The server binary `cargo test` built, or AFFILIATE_SERVER_BIN.
BIN = pathlib.Path(os.environ.get("AFFILIATE_SERVER_BIN", ROOT / "target" / "debug" / "affiliate-server"))
#: 2023-11-14 22:13:20 UTC, a Tuesday.
T0 = 1_700_000_000


@pytest.fixture(scope="session")
def vectors() -> Dict[str, Any]:
    with VECTORS.open() as f:
        data: Dict[str, Any] = json.load(f)
    return data


@pytest.fixture
def keys() -> Keyring:
    return Keyring({"k1": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}, current="k1")


@pytest.fixture
def signer(keys: Keyring) -> LinkSigner:
    return LinkSigner(keys, base_url=BASE)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def tracker(keys: Keyring, clock: FixedClock) -> Iterator[Tracker]:
    """A tracker with campaign `haircare` (10 %, 28 days, overrides 10/5) and partners
    `boss1` > `mid1` > `abc123` (coupon ABC10)."""
    t = Tracker(keys, store=MemoryStore(), base_url=BASE, clock=clock)
    t.add_campaign(
        "haircare",
        destination="https://shop.example/hair",
        currency="USD",
        cookie_days=28,
        sale_percent="10",
        lead_flat="2.00",
        click_flat="0.01",
        impression_per_mille="1.50",
        override_percents=["10", "5"],
    )
    t.add_partner("boss1")
    t.add_partner("mid1", parent="boss1")
    t.add_partner("abc123", parent="mid1", coupons=["ABC10"])
    yield t


@contextlib.contextmanager
def affiliate_server(config: str) -> Iterator[str]:
    """Serves `config` (its relative `data_dir` in a fresh directory) with the
    affiliate-server binary; yields its base URL, and stops it after."""
    if not BIN.exists():
        pytest.fail(f"{BIN} not built: run cargo build -p affiliate-server (./scripts/test does)")
    with tempfile.TemporaryDirectory() as d:
        path = pathlib.Path(d) / "affiliate.toml"
        path.write_text(config)
        proc = subprocess.Popen([str(BIN), "serve", "--config", str(path)], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            m = re.search(r"listening on (http://\S+)", line)
            assert m, line
            yield m.group(1)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
