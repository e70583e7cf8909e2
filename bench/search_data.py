"""The data and the index ``bench/search.py`` measures: the network and library generated (or
reused), the search index built and timed, its size on disk, and the readers who search."""

import argparse
import secrets
import time
from typing import Any

from sqlalchemy import func, select, text

from bench.generate import READER_EMAIL, SMALL, Sizes, generate
from bench.library import fill

#: Resources added with ``--small`` (the library benchmark's 10,000 otherwise).
SMALL_RESOURCES = 1_000


def make_app(database_url: str) -> Any:
    """The app as the environment configures it, on this database."""
    from peerlearn import create_app
    from peerlearn.config import normalise_database_url

    return create_app({
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SECRET_KEY": secrets.token_urlsafe(32), "LOG_LEVEL": "WARNING",
    })  # fmt: skip


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


def describe() -> dict[str, Any]:
    """What the database holds."""
    from peerlearn.extensions import db

    count = lambda table: db.session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: E731, S608
    data = {t: count(t) for t in ("users", "threads", "posts", "resources")}
    return {"dialect": db.engine.dialect.name, **data}
