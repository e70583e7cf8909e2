"""The suite's databases on each backend: the one every test empties (``database_url`` in
tests/conftest.py, by :func:`empty_tables` after each test), and databases of a fixture's own
beside it, empty or copied from another.

A costly setup (the seeded demo in tests/core, the seeded chat in tests/live) is made once per
backend in a database of its own, and a test or module that writes gets a copy: copying a SQLite
file, or making a PostgreSQL database from a template, takes a fraction of a second.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from peerlearn.config import normalise_database_url
from peerlearn.extensions import db

POSTGRES_URL = os.environ.get("PEERLEARN_TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
#: pytest-xdist's name for this process ("gw0", "gw1", …), or "" when the suite runs in one.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def reset_postgres(url: str) -> str:
    """Empty the PostgreSQL database (its public schema dropped and made again)."""
    url = normalise_database_url(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def worker_postgres(url: str, worker: str, template: str | None = None) -> Iterator[str]:
    """A database of this worker's own beside the one named (same server), dropped afterwards:
    empty, or a copy of the database called ``template`` (which nobody may be connected to)."""
    server = make_url(url)
    name = f"{server.database}_{worker}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(
            f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        )
    own = server.set(database=name).render_as_string(hide_password=False)
    try:
        yield normalise_database_url(own) if template else reset_postgres(own)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def own_database(
    suite_url: str, folder: Path, name: str, template: str | None = None
) -> Iterator[str]:
    """A database of its own on the suite's backend, empty or a copy of ``template`` (a URL from
    here, nobody connected to it): a SQLite file in ``folder``, or a PostgreSQL database beside
    the suite's, dropped afterwards."""
    if suite_url.startswith("sqlite"):
        path = folder / f"{name}.db"
        if template:
            shutil.copyfile(make_url(template).database, path)
        yield f"sqlite:///{path}"
    else:
        copied = make_url(template).database if template else None
        yield from worker_postgres(POSTGRES_URL, f"{WORKER or 'main'}_{name}", copied)


def empty_tables(app: Flask) -> None:
    """Delete every row the app's database holds (what each test leaves behind)."""
    with app.app_context():
        db.session.remove()
        with db.engine.connect() as connection:
            # Every row goes, so there is nothing for foreign keys to check; and SQLite checks
            # ON DELETE RESTRICT row by row (a community before its groups), PostgreSQL at the
            # end of the statement.
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
                connection.commit()
            try:
                for table in reversed(db.metadata.sorted_tables):
                    connection.execute(table.delete())
                connection.commit()
            finally:
                if sqlite:
                    connection.exec_driver_sql("PRAGMA foreign_keys = ON")
                    connection.commit()
