"""Time searches with date filters, in process, on data ``bench/search.py`` built.

    .venv/bin/python -m bench.search_dates --database-url sqlite:////work/bench/search.db

Each case is a search as the benchmark's typical member (``pick_readers``) with a date range,
run ``--runs`` times after two untimed runs; the median is printed with the results' count.
"""

import argparse
import statistics
import time
from datetime import date

from bench.search_data import make_app, pick_readers

#: (words, since, until): ranges ending long before the newest match, and two that do not.
CASES = [
    ("week", None, date(2025, 6, 30)),
    ("week", date(2025, 1, 1), date(2025, 1, 31)),
    ("patients", None, date(2024, 12, 31)),
    ("week", date(2026, 11, 1), None),
    ("week", None, None),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    app = make_app(args.database_url)
    with app.app_context():
        from peerlearn.extensions import db
        from peerlearn.search.services import Filters, search

        reader, label = pick_readers(["member"])["member"]
        print(f"reader: {label}; {args.runs} timed runs each, after 2")
        print("| words | since | until | results | median ms |\n| --- | --- | --- | ---: | ---: |")
        for words, since, until in CASES:
            filters = Filters(since=since, until=until)
            spent = []
            for run in range(args.runs + 2):
                began = time.perf_counter()
                total = search(reader, words, filters).total
                if run >= 2:
                    spent.append(time.perf_counter() - began)
                db.session.rollback()
            median = statistics.median(spent) * 1000
            print(f"| `{words}` | {since or ''} | {until or ''} | {total:,} | {median:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
