"""A Tracker shared between threads: exactly-once under concurrency, and the GIL is
released while the core works."""

from __future__ import annotations

import pathlib
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from typing import Dict, List, Tuple, Union

import pytest

from affiliate_sdk import Keyring, LinkSigner, MemoryStore, SledStore, Tracker

from conftest import BASE

THREADS = 8
ORDERS_PER_THREAD = 400
SHARED = 100  # order ids every thread converts


def make_tracker(store: Union[MemoryStore, SledStore]) -> Tuple[Tracker, LinkSigner]:
    keys = Keyring.generate()
    t = Tracker(keys, store=store, base_url=BASE)
    t.add_campaign("haircare", destination="https://shop.example/", currency="USD",
                   sale_percent="10", override_percents=["10"])
    t.add_partner("boss1")
    for p in range(4):
        t.add_partner(f"p{p}", parent="boss1")
    return t, LinkSigner(keys, BASE)


@pytest.mark.parametrize("kind", ["memory", "sled"])
def test_threads_converting_the_same_order_ids_record_each_exactly_once(
    kind: str, tmp_path: pathlib.Path
) -> None:
    store = MemoryStore() if kind == "memory" else SledStore(tmp_path / "db")
    tracker, signer = make_tracker(store)
    tokens = [tracker.click(signer.build("haircare", f"p{p}")).token for p in range(4)]
    start = threading.Barrier(THREADS)
    answers: Dict[int, List[Tuple[str, bool, str, Decimal]]] = {}
    errors: List[BaseException] = []

    def work(n: int) -> None:
        mine = []
        try:
            start.wait()
            for i in range(ORDERS_PER_THREAD):
                # The first SHARED ids are converted by every thread, the rest by one.
                order = f"S-{i}" if i < SHARED else f"T{n}-{i}"
                c = tracker.convert(order, amount="10.00", currency="USD",
                                    token=tokens[i % len(tokens)])
                mine.append((c.order_id, c.duplicate, c.partner, c.commission))
        except BaseException as e:  # reported below
            errors.append(e)
        answers[n] = mine

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    flat = [a for n in range(THREADS) for a in answers[n]]
    assert len(flat) == THREADS * ORDERS_PER_THREAD
    fresh = Counter(order for order, duplicate, _, _ in flat if not duplicate)
    # Every order id was recorded by exactly one call; every other call was a replay.
    assert set(fresh.values()) == {1}
    assert len(fresh) == SHARED + THREADS * (ORDERS_PER_THREAD - SHARED)
    # And every replay answered the one recorded partner and commission.
    for order, _, partner, commission in flat:
        stored = tracker.conversion(order)
        assert (stored.partner, stored.commission) == (partner, commission)
    row = tracker.stats()[0]
    assert row["sales"] == len(fresh)
    assert row["revenue"] == {"USD": Decimal("10.00") * len(fresh)}
    # 1.00 to the partner and 0.10 to boss1 per order.
    assert row["commission"] == {"USD": Decimal("1.10") * len(fresh)}


def test_the_gil_is_released_while_the_core_works() -> None:
    """While one thread waits in a long store read (a report over 50,000 conversions),
    another thread keeps running Python."""
    tracker, _ = make_tracker(MemoryStore())
    for i in range(50_000):
        tracker.manual(f"G-{i}", amount="1.00", currency="USD", campaign="haircare",
                       partner=f"p{i % 4}")
    ticks = 0
    stop = False

    def spin() -> None:
        nonlocal ticks
        while not stop:
            ticks += 1

    old = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        time.sleep(0.05)
        # The spinner's rate while this thread sleeps (the GIL free).
        before, t0 = ticks, time.perf_counter()
        time.sleep(0.2)
        rate = (ticks - before) / (time.perf_counter() - t0)
        before, t0 = ticks, time.perf_counter()
        for _ in range(5):
            assert tracker.stats()[0]["sales"] == 50_000
        elapsed = time.perf_counter() - t0
        during = ticks - before
    finally:
        stop = True
        spinner.join()
        sys.setswitchinterval(old)
    # Holding the GIL would leave the spinner a few 1 ms switch slices per call (at
    # most ~5 % of `elapsed`); released, it runs for most of the calls' time.
    assert elapsed > 0.05, "the report was too quick to tell"
    assert during > 0.3 * rate * elapsed, (during, rate, elapsed)
