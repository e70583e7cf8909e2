"""How ``bench/search.py`` times a search: the service and the raw backend query as callers, each
run bounded by a statement time limit and timed with its connection already checked out, the
latencies kept per class of query, and how many rows each query matches."""

import argparse
import math
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text

from bench.search_queries import Probe


def raw_search(typed: str) -> list[int]:
    """The backend's own query, shaped as the service runs it, and nothing else (no permissions,
    filters, counts, loading or snippets): the newest ``CANDIDATES`` matches, then the first page
    of them by text relevance."""
    from peerlearn.extensions import db
    from peerlearn.search.backends import backend
    from peerlearn.search.models import SearchDocument
    from peerlearn.search.query import parse
    from peerlearn.search.services import CANDIDATES, PER_PAGE

    parsed = parse(typed)
    newest, _ = backend().matching(select(SearchDocument.id), parsed)
    newest = newest.order_by(*(key.desc() for key in backend().newest_first()))
    ids = list(db.session.scalars(newest.limit(CANDIDATES)))
    if not ids:
        return []
    query, relevance = backend().ranking(select(SearchDocument.id), parsed, ids)
    query = query.order_by(relevance.desc())
    return list(db.session.scalars(query.limit(PER_PAGE)))


def service_search(user: Any) -> Callable[[str], Any]:
    from peerlearn.search.services import search

    return lambda typed: search(user, typed).total


class TimedOut(Exception):
    """A statement ran past the time limit and was stopped."""


_statement_began = [0.0]


def statement_starts(*_: Any) -> None:
    """Note when a statement starts (listened for on SQLite, where ``bounded`` stops one that
    runs too long by the time since)."""
    _statement_began[0] = time.perf_counter()


@contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """Stop any statement in the block that runs past ``seconds`` (raising :class:`TimedOut`):
    PostgreSQL's ``statement_timeout``, a progress handler on SQLite. The connection is checked
    out (and pinged) on entry; the session is rolled back and emptied on exit, as at the end of a
    request, so nothing carries over from one run to the next."""
    from sqlalchemy.exc import OperationalError

    from peerlearn.extensions import db

    connection = db.session.connection()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        raw = connection.connection.driver_connection
        raw.set_progress_handler(
            lambda: time.perf_counter() - _statement_began[0] > seconds, 10_000
        )
    else:
        db.session.execute(text(f"SET LOCAL statement_timeout = {round(seconds * 1000)}"))
    try:
        yield
    except OperationalError as error:
        if "interrupted" not in str(error.orig) and "statement timeout" not in str(error.orig):
            raise
        raise TimedOut from error
    finally:
        if sqlite:
            raw.set_progress_handler(None, 0)
        db.session.rollback()
        db.session.expunge_all()


def timed(call: Callable[[str], Any], typed: str, limit: float) -> float:
    """Seconds ``call`` took (infinity when stopped at ``limit``), the connection checked out
    before the clock starts."""
    try:
        with bounded(limit):
            started = time.perf_counter()
            call(typed)
            return time.perf_counter() - started
    except TimedOut:
        return math.inf


def percentile(values: list[float], q: float) -> float:
    """Nearest rank, in milliseconds."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000 if ordered else 0.0


@dataclass
class Series:
    """The latencies of one caller over one query class."""

    seconds: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Percentiles in ms (None past the time limit) and how many runs were stopped."""
        figures: dict[str, Any] = {"runs": len(self.seconds)}
        figures |= {f"p{q}": _finite(percentile(self.seconds, q / 100)) for q in (50, 95, 99)}
        return figures | {"timed_out": sum(1 for s in self.seconds if s == math.inf)}


def _finite(value: float) -> float | None:
    return None if value == math.inf else value


def measure(probes: list[Probe], callers: dict[str, Callable[[str], Any]],
            args: argparse.Namespace) -> tuple[dict[tuple[str, str], Series], dict, int]:  # fmt: skip
    """Warm-up runs, then timed rounds through every query and caller until ``args.runs`` rounds
    or ``args.max_seconds``, whichever comes first. A query that once runs past ``args.timeout``
    is not run again for that caller: its later runs count as timed out too."""
    series: dict[tuple[str, str], Series] = {}
    by_probe: dict[tuple[str, str], list[float]] = {}
    given_up: set[tuple[str, str]] = set()

    def run(probe: Probe, name: str) -> float:
        if (probe.text, name) in given_up:
            return math.inf
        seconds = timed(callers[name], probe.text, args.timeout)
        if seconds == math.inf:
            given_up.add((probe.text, name))
            print(f"  {name}: `{probe.text}` ran past {args.timeout:.0f} s", flush=True)
        return seconds

    began = time.perf_counter()
    for _ in range(args.warmup):
        for probe in probes:
            for name in callers:
                run(probe, name)
    print(f"  warmed up in {time.perf_counter() - began:.0f} s", flush=True)
    began, rounds = time.perf_counter(), 0
    while rounds < args.runs and time.perf_counter() - began < args.max_seconds:
        for probe in probes:
            for name in callers:
                seconds = run(probe, name)
                series.setdefault((probe.kind, name), Series()).seconds.append(seconds)
                by_probe.setdefault((probe.text, name), []).append(seconds)
        rounds += 1
        print(f"  round {rounds}/{args.runs}, {time.perf_counter() - began:.0f} s", flush=True)
    medians = {key: _finite(statistics.median(values) * 1000) for key, values in by_probe.items()}
    return series, medians, rounds


def matches(probe: Probe, reader: Any, limit: float) -> tuple[int, int | None]:
    """How many rows match the query at all, and how many the reader may see (None: the
    search ran past ``limit``)."""
    from peerlearn.extensions import db
    from peerlearn.search.backends import backend
    from peerlearn.search.models import SearchDocument
    from peerlearn.search.query import parse
    from peerlearn.search.services import search

    counting = select(func.count()).select_from(SearchDocument)
    query, _ = backend().matching(counting, parse(probe.text))
    with bounded(limit):
        matching = int(db.session.scalar(query) or 0)
    try:
        with bounded(limit):
            return matching, search(reader, probe.text).total
    except TimedOut:
        return matching, None
