"""Conversions/s through the Flask shop under gunicorn on PostgreSQL, with 1 worker and
with 4, in one run (the peer of 4 workers is 1 worker on the same machine and
database). Each checkout is a real HTTP request that records the conversion durably.

    AFFILIATE_TEST_POSTGRES_URL=postgres://… python examples/python-shop/bench.py [--orders N]
"""

from __future__ import annotations

import argparse
import os
import sys

from load import checkouts, fresh_database, gunicorn_shop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    url = os.environ.get("AFFILIATE_TEST_POSTGRES_URL")
    if not url:
        sys.exit("set AFFILIATE_TEST_POSTGRES_URL to a PostgreSQL database (scripts/pg-cluster)")
    rates = {}
    for workers in (1, 4):
        with gunicorn_shop(fresh_database(url), workers) as shop:
            results, seconds = checkouts(shop, args.orders, args.orders // 10, args.concurrency)
            assert all(r.status == 200 for r in results)
            rates[workers] = len(results) / seconds
            print(f"gunicorn -w {workers}: {len(results)} checkouts in {seconds:.1f} s, "
                  f"{rates[workers]:.0f} conversions/s")
    print(f"4 workers / 1 worker: {rates[4] / rates[1]:.2f}x ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
