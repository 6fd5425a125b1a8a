"""Stores for shops that run several processes: a sled directory is one process's, and
says so to a second one; a PostgresStore is shared by every process and tracker."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time
from typing import Iterator

import pytest

import affiliate_sdk as sdk
from affiliate_sdk import Keyring, LinkSigner, PostgresStore, SledStore, Tracker

from conftest import BASE


def test_a_second_process_on_a_sled_directory_gets_a_store_error_naming_it(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / "shop-data"
    held = SledStore(path)
    other = subprocess.run(
        [sys.executable, "-c",
         "import sys, affiliate_sdk as s\n"
         "try:\n    s.SledStore(sys.argv[1])\n"
         "except s.StoreError as e:\n    print(type(e).__name__, e)\n",
         str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert other.returncode == 0, other.stderr
    assert other.stdout.startswith("StoreError "), other.stdout
    assert str(path) in other.stdout and "use PostgresStore" in other.stdout, other.stdout
    # In this process too, a second store on the directory is refused the same way.
    with pytest.raises(sdk.StoreError, match="in use by another process"):
        SledStore(path)
    del held


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database in the test command's throwaway PostgreSQL cluster."""
    url = os.environ.get("AFFILIATE_TEST_POSTGRES_URL")
    if not url:
        pytest.fail("AFFILIATE_TEST_POSTGRES_URL must name a PostgreSQL database "
                    "(./scripts/test starts one with scripts/pg-cluster)")
    name = f"affiliate_py_{os.getpid()}_{time.monotonic_ns()}"
    subprocess.run(["psql", url, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    yield url.rsplit("/", 1)[0] + "/" + name


def test_postgres_store_is_shared_by_trackers_and_hides_its_url(database: str) -> None:
    keys = Keyring.generate()
    first = Tracker(keys, store=PostgresStore(database), base_url=BASE)
    first.add_campaign("haircare", destination="https://shop.example/", currency="USD",
                       sale_percent="10")
    first.add_partner("abc123", coupons=["ABC10"])
    # Another worker process's tracker on the same database: the program is there.
    second = Tracker(keys, store=PostgresStore(database), base_url=BASE)
    assert second.campaign("haircare") is not None
    click = second.click(LinkSigner(keys, BASE).build("haircare", "abc123", sid="kw1"))
    conv = first.convert("PG-1", amount="49.90", currency="USD", token=click.token)
    assert (conv.partner, conv.duplicate) == ("abc123", False)
    # The same order through the other tracker: one conversion.
    again = second.convert("PG-1", amount="49.90", currency="USD", token=click.token)
    assert again.duplicate
    assert second.conversion("PG-1").partner == "abc123"
    store = PostgresStore(database)
    assert repr(store) == "PostgresStore(…)" and "postgres://" not in repr(store)


def test_postgres_store_refuses_bad_arguments(tmp_path: pathlib.Path) -> None:
    with pytest.raises(sdk.Malformed):
        PostgresStore("not a url at all ://")
    with pytest.raises(sdk.StoreError, match="ca_file"):
        PostgresStore("postgres://u@127.0.0.1:1/db?sslmode=require", ca_file=tmp_path / "none.pem")
    # Nothing listens on port 1: a StoreError after the connection timeout, not a hang.
    started = time.monotonic()
    with pytest.raises(sdk.StoreError):
        PostgresStore("postgres://u@127.0.0.1:1/db")
    assert time.monotonic() - started < 30
    with pytest.raises(TypeError):
        Tracker(Keyring.generate(), store="postgres://u@h/db", base_url=BASE)  # type: ignore[arg-type]
