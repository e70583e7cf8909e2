"""The demo network, seeded once per backend by the ``seed-demo`` command and shared by the tests
that only read it; a test that writes (seeding again, moving the clock on) gets a copy of its own.

Seeding takes seconds, copying the seeded database a fraction of one. The shared database is a
database of its own, so the one every other test empties stays as it was, and it is opened
read-only, so a test that writes to it fails instead of changing what the others read. The
scheduler in tests/conftest.py keeps these modules on one worker per backend (one seed each).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from peerlearn import create_app, init_socketio
from peerlearn.core.db import utcnow
from peerlearn.extensions import db
from tests.conftest import Client
from tests.databases import own_database


@dataclass
class SeededDemo:
    """The demo seeded by ``seed-demo``: an app on it (read-only), and what the command did."""

    app: Flask
    #: The database, writable (to copy it from).
    url: str
    #: Its uploads are in ``uploads`` here.
    folder: Path
    #: What the command printed.
    output: str
    #: Just before and just after the command ran.
    started: datetime
    finished: datetime


def _read_only(url: str) -> str:
    """The same database, opened so that every write fails."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///file:{parsed.database}?mode=ro&uri=true"
    options = {"options": "-c default_transaction_read_only=on"}
    return parsed.update_query_dict(options).render_as_string(hide_password=False)


def _app_on(suite_app: Flask, app_config: dict[str, Any], url: str, folder: Path) -> Flask:
    """An app set up as the suite's, on another database and folder. Socket.IO goes back to the
    suite's app (its server is one per process: the last app bound owns it)."""
    other = create_app(
        {
            **app_config,
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_DIR": str(folder / "uploads"),
            "MAIL_OUTBOX_DIR": str(folder / "outbox"),
        }
    )
    other.test_client_class = Client
    init_socketio(suite_app)
    return other


def seed_demo(app: Flask) -> str:
    """Run ``seed-demo`` on the app's database (in its open context); what it printed."""
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def seeded_demo(
    _session_app: Flask,
    app_config: dict[str, Any],
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SeededDemo]:
    """The demo, seeded once per backend (and per worker that runs these tests)."""
    folder = tmp_path_factory.mktemp("demo")
    with own_database(database_url, folder, "demo") as url:
        seeder = _app_on(_session_app, app_config, url, folder)
        with seeder.app_context():
            upgrade()
            started = utcnow()
            output = seed_demo(seeder)
            finished = utcnow()
        _dispose(seeder)
        reader = _app_on(_session_app, app_config, _read_only(url), folder)
        yield SeededDemo(reader, url, folder, output, started, finished)
        _dispose(reader)


@pytest.fixture
def demo(seeded_demo: SeededDemo) -> Iterator[SeededDemo]:
    """The shared seeded demo, with a context open on its (read-only) app, as ``app`` has."""
    with seeded_demo.app.app_context():
        yield seeded_demo
        db.session.remove()


@pytest.fixture
def demo_copy(
    seeded_demo: SeededDemo,
    _session_app: Flask,
    app_config: dict[str, Any],
    database_url: str,
    tmp_path: Path,
) -> Iterator[Flask]:
    """An app on a writable copy of the seeded demo (its database and uploads) for this test
    alone, with a context open."""
    _dispose(seeded_demo.app)  # PostgreSQL copies a database only while nobody is connected
    shutil.copytree(seeded_demo.folder / "uploads", tmp_path / "uploads")
    with own_database(database_url, tmp_path, "demo_copy", seeded_demo.url) as url:
        copy = _app_on(_session_app, app_config, url, tmp_path)
        with copy.app_context():
            yield copy
        _dispose(copy)
