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
names and titles), ``services.search()`` (parsing, the permission filter, per-kind counts,
ranking, page 1 with snippets) as a typical member and as an anonymous visitor, and the raw
backend query (the same ``matching()`` and relevance, ``LIMIT 20``, no permission filter, counts
or snippets). Runs rotate through the queries, service and raw side by side, so a busy moment on
the machine hits both alike; the session is rolled back and emptied after every run. A statement
running past ``--timeout`` is stopped and its query counted as timed out from then on, so every
run ends. Targets: p95 at most 50 ms and at most twice the raw query's p95. ``--explain QUERY``
prints the plans of the service's counts and ranking statements instead.
"""

import argparse
import itertools
import json
import math
import os
import random
import re
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text

from bench import vocabulary as words
from bench.generate import READER_EMAIL, SMALL, Sizes, generate
from bench.library import fill
from bench.search_report import CLASSES, PHASES, report

#: Resources added with ``--small`` (the library benchmark's 10,000 otherwise).
SMALL_RESOURCES = 1_000


# The queries ------------------------------------------------------------------------------------

#: Post bodies are made of these sentences (each is in about a quarter of the posts): common words.
COMMON_SOURCES = words.SENTENCES
#: Names that appear only in thread titles, space names, people and organisations: rarer words.
RARE_SOURCES = (*words.TOPICS, *words.JOB_TITLES, *words.COMMUNITIES)


@dataclass(frozen=True)
class Probe:
    """One query as typed, its class, and where its words came from."""

    kind: str
    text: str
    source: str


def _tokens(phrase: str) -> list[str]:
    """Lower-case runs of letters (addresses, digits and markup dropped)."""
    return re.findall(r"[^\W\d_]+", re.sub(r"\S+://\S+", " ", phrase).casefold())


def _grams(phrases: tuple[str, ...], n: int, phrase: bool = False) -> list[str]:
    """Runs of ``n`` words as they stand in ``phrases``: content words only (stop words dropped,
    as the parser drops them), or for a quoted phrase every word, with a content word at each end."""
    from peerlearn.search.query import STOP_WORDS

    found = set()
    for source in phrases:
        tokens = _tokens(source)
        if not phrase:
            tokens = [t for t in tokens if t not in STOP_WORDS and len(t) >= 3]
        for start in range(len(tokens) - n + 1):
            gram = tokens[start : start + n]
            if not phrase or (gram[0] not in STOP_WORDS and gram[-1] not in STOP_WORDS):
                found.add(" ".join(gram))
    return sorted(found)


def choose_queries(per_class: int, seed: int) -> list[Probe]:
    """``per_class`` queries of each class, half from post text and half from names."""
    rng = random.Random(seed)
    common_words = set(_grams(COMMON_SOURCES + words.QUESTIONS, 1))
    rare_words = [w for w in _grams(RARE_SOURCES + words.PLACES, 1) if w not in common_words]
    pools = {
        "one word": ([w for w in sorted(common_words) if len(w) >= 4], rare_words),
        "two words": (_grams(COMMON_SOURCES, 2), _grams(RARE_SOURCES, 2)),
        "three words": (_grams(COMMON_SOURCES, 3), _grams(RARE_SOURCES, 3)),
        "phrase": (
            _grams(COMMON_SOURCES, 2, phrase=True) + _grams(COMMON_SOURCES, 3, phrase=True),
            _grams(RARE_SOURCES, 2, phrase=True) + _grams(RARE_SOURCES, 3, phrase=True),
        ),
    }
    probes = []
    for kind, (common, rare) in pools.items():
        quote = '"{}"' if kind == "phrase" else "{}"
        for source, pool, count in (
            ("post text", common, per_class - per_class // 2),
            ("names", rare, per_class // 2),
        ):
            probes += [Probe(kind, quote.format(gram), source) for gram in rng.sample(pool, count)]
    return probes


# The data and the index -------------------------------------------------------------------------


def make_app(database_url: str) -> Any:
    """The app as the environment configures it, on this database."""
    from peerlearn import create_app
    from peerlearn.config import normalise_database_url

    return create_app({
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SECRET_KEY": secrets.token_urlsafe(32), "LOG_LEVEL": "WARNING",
    })  # fmt: skip


def build_index() -> dict[str, Any]:
    """Run what ``flask search-reindex`` runs, timed; then, on PostgreSQL, the ``VACUUM ANALYZE``
    autovacuum would run soon after a load this size (timed apart)."""
    from peerlearn.extensions import db
    from peerlearn.search import indexing

    started = time.perf_counter()
    total = indexing.rows_to_index()
    done, shown = 0, 0

    def progress(rows: int) -> None:
        nonlocal done, shown
        done += rows
        if done - shown >= 50_000 or done == total:
            shown = done
            print(f"  indexed {done:,}/{total:,} rows, {time.perf_counter() - started:.0f} s")

    counts = indexing.reindex_all(progress)
    seconds = time.perf_counter() - started
    built: dict[str, Any] = {"seconds": seconds, "rows": {k.value: n for k, n in counts.items()}}
    if db.engine.dialect.name == "postgresql":
        began = time.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE search_documents"))
        built["vacuum_seconds"] = time.perf_counter() - began
    return built


def index_size() -> dict[str, int]:
    """Bytes on disk: the rows, their ordinary indexes, and the full-text structures."""
    from peerlearn.extensions import db

    with db.engine.connect() as connection:
        if db.engine.dialect.name == "postgresql":
            one = lambda sql: int(connection.scalar(text(sql)))  # noqa: E731
            gin = one("SELECT pg_relation_size('ix_search_documents_search_vector')")
            return {
                "rows (heap and TOAST)": one("SELECT pg_table_size('search_documents')"),
                "other indexes": one("SELECT pg_indexes_size('search_documents')") - gin,
                "full text (GIN index)": gin,
            }
        # The table, its indexes, the FTS5 table and its shadow tables (triggers take no pages).
        objects = (
            "SELECT name FROM sqlite_master WHERE tbl_name LIKE 'search%' OR name LIKE 'search%'"
        )
        pages = "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = :name"
        sizes = {"rows": 0, "other indexes": 0, "full text (FTS5 tables)": 0}
        for name in set(connection.scalars(text(objects))):
            if name == "search_documents":
                part = "rows"
            elif name.startswith("search_fts"):
                part = "full text (FTS5 tables)"
            else:
                part = "other indexes"
            sizes[part] += int(connection.scalar(text(pages), {"name": name}))
        return sizes


def pick_readers(names: list[str]) -> dict[str, tuple[Any, str]]:
    """The readers: ``member``, a typical one (not an administrator, a plain member in the median
    number of spaces); ``busy``, the benchmark reader (a member of the 40 busiest spaces);
    ``anonymous``, a visitor who has not signed in."""
    from flask_login import AnonymousUserMixin
    from sqlalchemy import case

    from peerlearn.accounts.models import SiteRole, User
    from peerlearn.extensions import db
    from peerlearn.spaces.models import MemberRole, Membership, MemberState

    active = Membership.state == MemberState.active
    other_roles = func.sum(case((Membership.role == MemberRole.member, 0), else_=1))
    spaces = (
        select(Membership.user_id, func.count().label("n"))
        .join(User, User.id == Membership.user_id)
        .where(
            active,
            User.site_role == SiteRole.member,
            User.active.is_(True),
            User.email_confirmed_at.is_not(None),
            User.email != READER_EMAIL,
        )
        .group_by(Membership.user_id)
        .having(other_roles == 0)
    ).subquery()
    counts = sorted(db.session.scalars(select(spaces.c.n)))
    if not counts:
        raise SystemExit("no plain members here: run bench/generate.py first")
    median = counts[len(counts) // 2]
    readers: dict[str, tuple[Any, str]] = {}
    for name in names:
        if name == "anonymous":
            readers[name] = (AnonymousUserMixin(), "anonymous (not signed in)")
            continue
        if name == "member":
            typical = select(func.min(spaces.c.user_id)).where(spaces.c.n == median)
            user_id = db.session.scalar(typical)
        else:
            user_id = db.session.scalar(select(User.id).where(User.email == READER_EMAIL))
        user = db.session.get(User, user_id)
        n = db.session.scalar(select(func.count()).where(Membership.user_id == user_id, active))
        readers[name] = (user, f"{name}: user {user_id}, a plain member of {n} spaces")
    db.session.expunge_all()  # loaded once: later runs never refresh them
    return readers


# Measuring --------------------------------------------------------------------------------------


def raw_search(typed: str) -> list[int]:
    """The backend's own query: match, relevance, the first page of ids. Nothing else."""
    from peerlearn.extensions import db
    from peerlearn.search.backends import backend
    from peerlearn.search.models import SearchDocument
    from peerlearn.search.query import parse
    from peerlearn.search.services import PER_PAGE

    query, relevance = backend().matching(
        select(SearchDocument.id).select_from(SearchDocument), parse(typed)
    )
    return list(db.session.scalars(query.order_by(relevance.desc()).limit(PER_PAGE)))


def service_search(user: Any) -> Callable[[str], Any]:
    from peerlearn.search.services import search

    return lambda typed: search(user, typed).total


class TimedOut(Exception):
    """A statement ran past the time limit and was stopped."""


_statement_began = [0.0]


def _statement_starts(*_: Any) -> None:
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


def _phase(statement: str) -> str:
    if "ts_headline" in statement or "highlight(" in statement:
        return "snippets"
    if "GROUP BY" in statement and "count(" in statement:
        return "counts"
    if "ORDER BY" in statement and ("search_fts" in statement or "search_vector" in statement):
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
    """The plan of the service's ranking statement (which also counts) for one query, as the reader:
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
        if phase not in {"counts", "ranking"}:
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
    # The ranking statement also counts (a counts statement of its own runs only past the last
    # page), so only its absence is worth saying.
    out += [f"--- ranking: {typed}: not reached" for _ in [0] if "ranking" not in seen]
    return "\n".join(out)


# Running ----------------------------------------------------------------------------------------


def prepare(args: argparse.Namespace) -> None:
    """The network and the library: generated into an empty database, or reused (brought up to
    the code's migrations first, as a deployment would be)."""
    if not args.reuse:
        generate(args.database_url, SMALL if args.small else Sizes(), args.seed)
    else:
        from flask_migrate import upgrade

        with make_app(args.database_url).app_context():
            upgrade()
    resources = args.resources or (SMALL_RESOURCES if args.small else 10_000)
    began = time.perf_counter()
    fill(args.database_url, resources, args.seed)  # does nothing when there are resources
    print(f"Library ready in {time.perf_counter() - began:.0f} s.", flush=True)


def describe() -> dict[str, Any]:
    """What the database holds."""
    from peerlearn.extensions import db

    count = lambda table: db.session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: E731, S608
    data = {t: count(t) for t in ("users", "threads", "posts", "resources")}
    return {"dialect": db.engine.dialect.name, **data}


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
                        help="print the plans of the service's counts and ranking statements "
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
            event.listen(db.engine, "before_cursor_execute", _statement_starts)
        if args.explain:
            for typed in args.explain:
                print(explain(typed, readers[names[0]][0], args.timeout))
            return 0
        callers = {name: service_search(user) for name, (user, _) in readers.items()}
        callers["raw"] = raw_search
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
