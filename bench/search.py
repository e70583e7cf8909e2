"""Measure search at network scale, in process: the whole service beside the raw backend query.

    createdb -h 127.0.0.1 -U postgres peerlearn_searchbench
    .venv/bin/python -m bench.search --database-url postgresql://postgres@127.0.0.1:5432/peerlearn_searchbench
    .venv/bin/python -m bench.search --database-url sqlite:////tmp/bench-search.db
    .venv/bin/python -m bench.search --database-url sqlite:////tmp/bench-search-small.db --small

Given an empty database, builds the network with ``bench/generate.py`` (500,000 posts) and the
library with ``bench/library.py`` (10,000 resources), then builds the search index with
``reindex_all`` (what ``flask search-reindex`` runs), timing it and measuring its size. ``--reuse``
takes a database this script (or those two) already filled, and builds the index only if it is
empty (or with ``--reindex``).

Then, in one run, inside an app context: for one-, two- and three-word queries and quoted
phrases (drawn from ``bench/vocabulary.py`` with a fixed seed, half from post text and half from
names and titles), ``services.search()`` (parsing, the permission filter, the newest
``CANDIDATES`` visible matches and their counts, ranking, page 1 with snippets) as a typical
member and as an anonymous visitor, and the raw backend query (the same ``matching()`` and
relevance in the same two steps, the newest ``CANDIDATES`` matches and then ``LIMIT 20`` of them
ranked, with no permission filter, counts, loading or snippets). Runs rotate through the queries, service and raw side by side, so a busy moment on
the machine hits both alike; the session is rolled back and emptied after every run. A statement
running past ``--timeout`` is stopped and its query counted as timed out from then on, so every
run ends. Targets: p95 at most 50 ms and at most twice the raw query's p95. ``--explain QUERY``
prints the plans of the service's two statements instead.

This module reads the options and runs the steps, each in a module of its own: the data, the
index and the readers (``search_data.py``), the queries (``search_queries.py``), timing
(``search_timing.py``), where the time goes and ``--explain`` (``search_profile.py``), and the
report (``search_report.py``).
"""

import argparse
import gc
import json
import os
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from bench.generate import SMALL
from bench.search_data import build_index, describe, index_size, make_app, pick_readers, prepare
from bench.search_profile import breakdown, explain
from bench.search_queries import choose_queries
from bench.search_report import CLASSES, report
from bench.search_timing import matches, measure, raw_search, service_search, statement_starts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="an empty SQLite or PostgreSQL db")
    parser.add_argument("--small", action="store_true", help=f"a quick check: {SMALL}")
    parser.add_argument("--reuse", action="store_true", help="a database already generated")
    parser.add_argument("--reindex", action="store_true", help="rebuild (and time) a built index")
    parser.add_argument("--resources", type=int, help="default 10,000 (1,000 with --small)")
    parser.add_argument("--readers", default="member,anonymous",
                        help="some of member, busy, anonymous; the first is held to the targets")  # fmt: skip
    parser.add_argument("--per-class", type=int, default=8, help="queries in each class")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each query")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs of each query first")
    parser.add_argument("--max-seconds", type=float, default=1800, help="limit on the timed runs")
    parser.add_argument("--timeout", type=float, default=10, help="limit on one statement, s")
    parser.add_argument("--profile-runs", type=int, default=3, help="runs of the breakdown")
    parser.add_argument("--explain", metavar="QUERY", action="append", default=[],
                        help="print the plans of the service's two statements "
                             "for QUERY, and stop")  # fmt: skip
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.readers.split(",") if n.strip()]
    if not names or set(names) - {"member", "busy", "anonymous"}:
        parser.error("--readers takes member, busy and anonymous")

    prepare(args)
    from peerlearn.extensions import db
    from peerlearn.search.models import SearchDocument

    app = make_app(args.database_url)
    with app.app_context():
        index: dict[str, Any] = {}
        if args.reindex or not db.session.scalar(select(func.count()).select_from(SearchDocument)):
            print("Building the search index (reindex_all) …", flush=True)
            index.update(build_index())
        kinds = select(SearchDocument.kind, func.count()).group_by(SearchDocument.kind)
        index["rows"] = {kind.value: n for kind, n in db.session.execute(kinds)}
        index["size"] = index_size()
        data = describe()
        readers = pick_readers(names)
        probes = choose_queries(args.per_class, args.seed)
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "before_cursor_execute", statement_starts)
        if args.explain:
            for typed in args.explain:
                print(explain(typed, readers[names[0]][0], args.timeout))
            return 0
        callers = {name: service_search(user) for name, (user, _) in readers.items()}
        callers["raw"] = raw_search
        # As wsgi.py does once the app is made: what exists now lives as long as the process,
        # and the collector's full passes over it (100-150 ms each) are not a search's cost.
        gc.collect()
        gc.freeze()
        print(f"Measuring {len(probes)} queries × {len(callers)} callers …", flush=True)
        series, medians, rounds = measure(probes, callers, args)
        queries = []
        for probe in probes:
            matching, visible = matches(probe, readers[names[0]][0], args.timeout)
            p50 = {name: medians.get((probe.text, name), 0.0) for name in callers}
            queries.append({**asdict(probe), "matching": matching, "visible": visible, "p50": p50})
        spent = breakdown(probes, readers[names[0]][0], args.profile_runs, args.timeout)
    results = {
        "argv": argv if argv is not None else sys.argv[1:],
        "when": f"{datetime.now(UTC):%Y-%m-%d %H:%M}",
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "data": data, "index": index, "seed": args.seed, "per_class": args.per_class,
        "rounds": rounds, "warmup": args.warmup,
        "readers": {name: label for name, (_, label) in readers.items()},
        "timeout": args.timeout,
        "latency": {kind: {name: series[(kind, name)].summary() for name in callers}
                    for kind in CLASSES},
        "queries": queries, "breakdown": spent,
    }  # fmt: skip
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
