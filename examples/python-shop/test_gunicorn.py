"""The Flask shop as deployed: gunicorn with 4 worker processes on one PostgreSQL
database. 2,000 concurrent checkouts, 10% of them repeating an order id (a double
submit, a retry) and landing on other workers: exactly one conversion per order id,
and every worker reports the same figures."""

from __future__ import annotations

import collections
import os
from decimal import Decimal

import pytest

from load import checkouts, fresh_database, gunicorn_shop, stats_from

ORDERS = 1_800
REPEATS = 200
WORKERS = 4


def test_four_workers_record_each_order_exactly_once_and_agree_on_the_stats() -> None:
    url = os.environ.get("AFFILIATE_TEST_POSTGRES_URL")
    if not url:
        pytest.fail("AFFILIATE_TEST_POSTGRES_URL must name a PostgreSQL database "
                    "(./scripts/test starts one with scripts/pg-cluster)")
    with gunicorn_shop(fresh_database(url), WORKERS) as shop:
        results, seconds = checkouts(shop, ORDERS, REPEATS, concurrency=64)
        print(f"\n{len(results)} checkouts through gunicorn -w {WORKERS} on PostgreSQL "
              f"in {seconds:.1f} s: {len(results) / seconds:.0f} conversions/s")
        assert [r for r in results if r.status != 200] == []
        assert len(results) == ORDERS + REPEATS
        firsts = collections.Counter(
            r.order_id for r in results if r.answer["affiliate"]["duplicate"] is False
        )
        sent = collections.Counter(r.order_id for r in results)
        # Exactly one conversion per order id; every repeat is answered as a duplicate.
        assert len(firsts) == ORDERS and set(firsts.values()) == {1}
        assert all(r.answer["affiliate"]["partner"] == "abc123" for r in results)
        assert all(r.answer["affiliate"]["commission"] == "1.29" for r in results)
        # The repeats really crossed workers: some order id was taken by two of them.
        workers_by_order = collections.defaultdict(set)
        for r in results:
            workers_by_order[r.order_id].add(r.worker)
        assert len({r.worker for r in results}) == WORKERS
        assert any(len(workers_by_order[o]) > 1 for o, n in sent.items() if n > 1)
        # Every worker reads the same report from the shared store.
        reports = stats_from(shop)
        assert len(reports) == WORKERS, reports.keys()
        expected = [{
            "partner": "abc123", "clicks": 200, "unique_clicks": 200, "bot_clicks": 0,
            "impressions": 0, "leads": 0, "sales": ORDERS,
            "revenue": {"USD": str(Decimal("12.90") * ORDERS)},
            "commission": {"USD": str(Decimal("1.29") * ORDERS)},
        }]
        for worker, rows in reports.items():
            assert rows == expected, worker
