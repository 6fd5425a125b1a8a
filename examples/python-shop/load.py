"""Drives the Flask shop under gunicorn on PostgreSQL: starts it with N workers and
sends many concurrent checkouts, some of them repeating an order id. Used by
`test_gunicorn.py` (the exactly-once check) and by `bench.py` (conversions/s with 1
and 4 workers)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import pathlib
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Tuple

from affiliate_sdk import Keyring, LinkSigner, PostgresStore, Tracker

HERE = pathlib.Path(__file__).resolve().parent
ADMIN_TOKEN = "load-test-admin-token"


def fresh_database(url: str) -> str:
    """A new, empty database on the server of `url` (``psql`` makes it)."""
    name = f"shop_{os.getpid()}_{time.monotonic_ns()}"
    subprocess.run(["psql", url, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    return url.rsplit("/", 1)[0] + "/" + name


@dataclass
class Shop:
    origin: str
    keys: Keyring
    database: str


@contextlib.contextmanager
def gunicorn_shop(database: str, workers: int) -> Iterator[Shop]:
    """The shop under ``gunicorn -w workers 'shop:from_env()'`` on `database`."""
    keys = Keyring.generate()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    origin = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as d:
        key_file = pathlib.Path(d) / "key"
        key_file.write_text(keys.export_keys()["k1"])
        key_file.chmod(0o600)
        env = dict(os.environ, SHOP_DATABASE_URL=database, SHOP_KEY_FILE=str(key_file),
                   SHOP_ORIGIN=origin, SHOP_ADMIN_TOKEN=ADMIN_TOKEN)
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
             "--chdir", str(HERE), "--backlog", "4096", "--log-level", "warning",
             "shop:from_env()"],
            env=env,
        )
        try:
            wait_ready(origin, proc)
            yield Shop(origin, keys, database)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_ready(origin: str, proc: "subprocess.Popen[bytes]") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            status, _, _ = request(origin, "GET", "/products/shampoo")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the shop did not answer within 60 s")


def request(origin: str, method: str, path: str, body: str = "",
            headers: Dict[str, str] | None = None) -> Tuple[int, Dict[str, str], bytes]:
    """One request on a new connection (gunicorn's sync workers close each one)."""
    u = urllib.parse.urlsplit(origin)
    conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


@dataclass
class Checkout:
    order_id: str
    status: int
    worker: str
    answer: Dict[str, Any]


def tokens(shop: Shop, count: int) -> List[str]:
    """`count` visitors' tokens: clicks on the shop's link, through a tracker of this
    process on the same database (as another server or worker would record them)."""
    tracker = Tracker(shop.keys, store=PostgresStore(shop.database), base_url=f"{shop.origin}/go")
    signer = LinkSigner(shop.keys, f"{shop.origin}/go")
    out = []
    for i in range(count):
        token = tracker.click(signer.build("haircare", "abc123", sid=f"v{i}")).token
        assert token is not None
        out.append(token)
    tracker.flush()
    return out


def checkouts(shop: Shop, orders: int, repeats: int, concurrency: int,
              seed: int = 7) -> Tuple[List[Checkout], float]:
    """`orders` distinct order ids plus `repeats` repeated ones, shuffled, sent
    `concurrency` at a time; returns the answers and the seconds it took."""
    visitors = tokens(shop, min(orders, 200))
    rng = random.Random(seed)
    ids = [f"ORD-{i:05d}" for i in range(orders)]
    plan = ids + [rng.choice(ids) for _ in range(repeats)]
    rng.shuffle(plan)

    def send(order_id: str) -> Checkout:
        token = visitors[int(order_id[4:]) % len(visitors)]
        status, headers, body = request(
            shop.origin, "POST", "/checkout",
            urllib.parse.urlencode({"order_id": order_id, "sku": "shampoo"}),
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"aff_token={token}"},
        )
        answer = json.loads(body) if status == 200 else {"body": body.decode(errors="replace")}
        return Checkout(order_id, status, headers.get("x-shop-worker", "?"), answer)

    start = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(send, plan))
    return results, time.monotonic() - start


def stats_from(shop: Shop) -> Dict[str, List[Dict[str, Any]]]:
    """The report as each worker reads it: asked until every worker has answered."""
    seen: Dict[str, List[Dict[str, Any]]] = {}
    for _ in range(400):
        status, _, body = request(shop.origin, "GET", "/admin/stats",
                                  headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert status == 200, body
        answer = json.loads(body)
        seen[str(answer["worker"])] = answer["rows"]
    return seen
