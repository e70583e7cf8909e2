"""Where a search's time goes, for ``bench/search.py``: its statements split into phases
(preparing, newest, ranking, loading, snippets) and timed, and the plans of the statements that
find the newest matches and rank them, for ``--explain``."""

import itertools
import statistics
import time
from typing import Any

from sqlalchemy import event

from bench.search_queries import Probe
from bench.search_report import PHASES
from bench.search_timing import TimedOut, bounded, service_search


def _phase(statement: str) -> str:
    if "ts_headline" in statement or "highlight(" in statement:
        return "snippets"
    # A round (its subquery's newest-first keys), or the last statement for the rest.
    newest_first = ("recency_0", "ORDER BY search_documents.activity_at DESC",
                    "ORDER BY search_fts.rowid DESC")  # fmt: skip
    if any(mark in statement for mark in newest_first):
        return "newest"
    if "ORDER BY" in statement and ("bm25(" in statement or "ts_rank(" in statement):
        return "ranking"
    return "loading"


def breakdown(
    probes: list[Probe], reader: Any, runs: int, limit: float
) -> dict[str, dict[str, float]]:
    """Where a search's time goes, per class and source of words (median ms of each phase): the
    time from each statement's start to the next's, by what the statement does, so fetching rows
    and building objects count with the statement that returned them. Listeners add a little;
    searches that run past ``limit`` are left out."""
    from peerlearn.extensions import db

    call = service_search(reader)
    starts: list[tuple[float, str]] = []

    def listener(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        starts.append((time.perf_counter(), _phase(statement)))

    phases: dict[str, dict[str, list[float]]] = {}
    given_up: set[str] = set()
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        for _ in range(runs):
            for probe in (p for p in probes if p.text not in given_up):
                try:
                    with bounded(limit):
                        starts.clear()
                        began = time.perf_counter()
                        call(probe.text)
                        ended = time.perf_counter()
                except TimedOut:
                    given_up.add(probe.text)
                    continue
                spent = dict.fromkeys(PHASES, 0.0)
                marks = [(began, "preparing"), *starts, (ended, "")]
                for (at, phase), (after, _) in itertools.pairwise(marks):
                    spent[phase] += after - at
                spent["total"] = ended - began
                key = f"{probe.kind}, {probe.source}"
                for phase, seconds in spent.items():
                    phases.setdefault(key, {}).setdefault(phase, []).append(seconds)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return {key: {phase: statistics.median(v) * 1000 for phase, v in spent.items()}
            for key, spent in phases.items()}  # fmt: skip


def explain(typed: str, reader: Any, limit: float) -> str:
    """The plans of the service's two statements (the newest matches, then ranking them) for one
    query, as the reader:
    ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL (a plain ``EXPLAIN`` when that runs past
    ``limit``), ``EXPLAIN QUERY PLAN`` on SQLite. A statement the service never reached, because
    an earlier one ran past ``limit``, is said to be missing."""
    from peerlearn.extensions import db

    sent: list[tuple[str, Any]] = []
    listener = lambda conn, cursor, statement, parameters, *rest: sent.append(  # noqa: E731
        (statement, parameters)
    )
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        with bounded(limit):
            service_search(reader)(typed)
    except TimedOut:
        pass
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    postgres = db.engine.dialect.name == "postgresql"
    out, seen = [], set()
    for statement, parameters in sent:
        phase = _phase(statement)
        if phase not in {"newest", "ranking"}:
            continue
        seen.add(phase)
        prefixes = (
            ["EXPLAIN (ANALYZE, BUFFERS) ", "EXPLAIN "] if postgres else ["EXPLAIN QUERY PLAN "]
        )
        for prefix in prefixes:
            try:
                with bounded(limit):
                    plan = db.session.connection().exec_driver_sql(prefix + statement, parameters)
                    rows = [
                        row[0] if postgres else f"{row[1]:>3} {row[2]:>3} {row[3]}" for row in plan
                    ]
                break
            except TimedOut:
                rows = [f"({prefix.strip()} ran past {limit:.0f} s)"]
        out += [f"--- {phase}: {typed}", statement, "", *rows, ""]
    # Nothing to rank runs no ranking statement; only a missing first statement is worth saying.
    out += [f"--- newest: {typed}: not reached" for _ in [0] if "newest" not in seen]
    return "\n".join(out)
