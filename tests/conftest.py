"""Shared fixtures: an app per database backend, a fresh database per test, factories, a client
that sends CSRF tokens like a browser, and a Socket.IO client that shares its session. The e-mail
fixtures (``outbox`` and ``smtp_server``) are in tests/mail_fixtures.py, registered below.

Every test that uses ``app`` runs once on SQLite and, when ``PEERLEARN_TEST_DATABASE_URL`` names a
PostgreSQL database, once more on PostgreSQL. The schema comes from the migrations.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask, has_app_context
from flask.ctx import RequestContext
from flask.testing import EnvironBuilder, FlaskClient
from flask_migrate import upgrade
from flask_wtf.csrf import generate_csrf
from xdist.scheduler import LoadScopeScheduling

from peerlearn import create_app, init_socketio
from peerlearn.accounts.models import SiteRole, User
from peerlearn.accounts.passwords import hash_password
from peerlearn.core.db import utcnow
from peerlearn.extensions import cache, db, limiter
from peerlearn.organisations.models import Organisation, OrganisationKind, Region
from peerlearn.spaces.models import (
    JoinPolicy,
    MemberRole,
    Membership,
    MemberState,
    Space,
    SpaceKind,
    Visibility,
)
from tests.databases import (
    BACKENDS,
    POSTGRES_URL,
    WORKER,
    empty_tables,
    reset_postgres,
    worker_postgres,
)

pytest_plugins = ["tests.mail_fixtures"]

#: The password every factory-made account has.
PASSWORD = "correct horse battery staple 42"
#: A cheap argon2id profile for the suite (production uses the library's defaults; the password
#: tests check those separately).
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024}

#: The modules that share a setup seeded once per backend: the demo (``seeded_demo``,
#: tests/core/conftest.py) and the live chat (``seeded_chat``, tests/live/conftest.py).
SEEDED_PER_BACKEND = {
    "seeded demo": ("tests/core/test_cli.py", "tests/core/test_demo_"),
    "seeded chat": ("tests/live/",),
}


class SharedSetupScheduling(LoadScopeScheduling):
    """pytest-xdist hands tests out one at a time, except those that share a costly setup: the
    browser tests (one served demo and one Chromium) go to one worker together, and so do the
    modules that share a seeded database on each backend (one seed each). The grouping goes by
    path and parameters, so it needs no markers."""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        if path.startswith("tests/browser/"):
            return "tests/browser"
        for seeded, modules in SEEDED_PER_BACKEND.items():
            if path.startswith(modules):
                params = nodeid.partition("[")[2].removesuffix("]").split("-")
                return f"{seeded} " + next((b for b in BACKENDS if b in params), "")
        return nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> SharedSetupScheduling:
    return SharedSetupScheduling(config, log)


#: The name under which a report carries one of axe's lesser findings (tests/browser).
AXE_LESSER_FINDING = "axe-lesser-finding"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List axe's moderate and minor findings from the browser tests: they fail nothing, but
    they are worth fixing. Each came with its test's report (from any pytest-xdist worker), so
    this hook is here, where the process that reports loads it."""
    findings: dict[tuple[str, ...], set[str]] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", ()):
                if name == AXE_LESSER_FINDING:
                    *key, path = value
                    findings.setdefault(tuple(key), set()).add(path)
    if not findings:
        return
    terminalreporter.section("axe-core: moderate and minor findings (not failures)")
    for (rule, impact, help_text, target), paths in sorted(findings.items()):
        terminalreporter.line(
            f"{rule} ({impact}) {target}: {help_text} - on {', '.join(sorted(paths))}"
        )


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder for the session's SQLite databases and stored files: in memory where the
    machine has one (``/dev/shm``), since every commit and every stored upload is fsynced, which
    on disk cost about a millisecond each and an eighth of the suite's time."""
    shm = Path("/dev/shm")  # noqa: S108 (a folder of our own is made in it, by mkdtemp)
    # Room for the databases and the stored uploads (a container's is often 64 MB).
    if not (shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2**30):
        yield tmp_path_factory.mktemp("scratch")
        return
    path = Path(tempfile.mkdtemp(prefix="peerlearn-tests-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, scratch: Path) -> Iterator[str]:
    """A migrated-from-empty database for the session, on each backend in turn.

    Under pytest-xdist each worker has PostgreSQL databases of its own, named after the one given.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{scratch / 'peerlearn-test.db'}"
    elif WORKER:
        yield from worker_postgres(POSTGRES_URL, WORKER)
    else:
        yield reset_postgres(POSTGRES_URL)


@pytest.fixture(scope="session")
def app_config(database_url: str, scratch: Path) -> dict[str, Any]:
    """Settings for the test app: nothing is read from the environment that matters."""
    root = Path(tempfile.mkdtemp(prefix="instance-", dir=scratch))
    return {
        "TESTING": True,
        "PEERLEARN_ENV": "testing",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-anything",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": None,
        # Apps a test gives a Redis message queue talk on a channel no other worker listens to.
        "SOCKETIO_CHANNEL": f"peerlearn-test-{WORKER or 'main'}-{secrets.token_hex(4)}",
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": True,
        "MAIL_SERVER": None,
        "MAIL_OUTBOX_DIR": str(root / "outbox"),
        "UPLOAD_DIR": str(root / "uploads"),
        "PEERLEARN_BASE_URL": "http://peerlearn.test",
        "PEERLEARN_DEMO_PASSWORD": PASSWORD,
        "SERVER_NAME": None,
        # Every join and leave is told to the room at once (a test of the gathering sets it).
        "PEERLEARN_PRESENCE_INTERVAL": 0,
        **FAST_ARGON2,
    }


@pytest.fixture(scope="session")
def _session_app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_session_app: Flask) -> Iterator[Flask]:
    """The app with an empty database, an empty outbox and fresh rate limits."""
    app = _session_app
    app.test_client_class = Client
    with app.app_context():
        limiter.reset()
        yield app
        db.session.remove()
        # Ids are reused once the tables are emptied: forget what was kept by id.
        cache.clear()
        app.extensions.pop("peerlearn_present_people", None)
    empty_tables(app)
    shutil.rmtree(app.config["MAIL_OUTBOX_DIR"], ignore_errors=True)


class Client(FlaskClient):
    """A test client that, like a browser on our forms, sends the page's CSRF token with POSTs.

    Each request runs in a fresh application context, as in production: the ``app`` fixture keeps
    a context open for the test's own database work, and requests would otherwise share its ``g``
    (a cached CSRF token, nonce or sign-in result leaking from one request into the next).
    Afterwards the test's own session is expired, so what it reads reflects the request.
    Responses are read whole and closed, as a server does once it has sent them, so work left
    for after the response (``core.deferred``: immediate e-mail) has run when ``open`` returns.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        # Werkzeug spools a request body over 500 KB to a temporary file it never closes: close
        # each one here, or its ResourceWarning fails whichever later test the collector runs in.
        for sent in (*getattr(response, "history", ()), response):
            sent.request.environ["wsgi.input"].close()
        if has_app_context():
            db.session.expire_all()
        return response

    def csrf_token(self) -> str:
        """The token a page would carry for this client's session (Flask-WTF's own
        ``generate_csrf``, on the session from the client's cookie), without a page request:
        every POST needs one, and rendering a page for it doubled the suite's time."""
        with self.session_transaction() as session:
            # The cookie's session (saved back with its raw token), in a fresh application
            # context, as for a request: the signed token is kept in its ``g``.
            environ = EnvironBuilder(self.application).get_environ()
            context = RequestContext(self.application, environ, session=session)
            with self.application.app_context(), context:
                return generate_csrf()

    def post(self, *args: Any, csrf: bool = True, **kwargs: Any) -> Any:  # type: ignore[override]
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)) and "json" not in kwargs:
            data = dict(data or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        return super().post(*args, **kwargs)


#: A Redis for the tests of what server processes share (``.ci/run`` sets it); unset, they skip.
REDIS_URL = os.environ.get("PEERLEARN_TEST_REDIS_URL", "").strip()


@pytest.fixture
def redis_limits() -> Iterator[dict[str, Any]]:
    """Settings that keep an app's rate limits in the test Redis, under a prefix of this test's
    own (its keys removed afterwards); the test is skipped when there is no Redis."""
    if not REDIS_URL:
        pytest.skip("PEERLEARN_TEST_REDIS_URL is not set")
    prefix = f"peerlearn-test-{uuid.uuid4().hex}"
    yield {
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": prefix,
        # The storage's own prefix too: the suite's limiter, left on this storage, is reset before
        # every later test, and a reset deletes every key under the storage's prefix ("LIMITS"
        # by default), another worker's counts in the middle of this test included.
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": prefix},
    }
    with redis.Redis.from_url(REDIS_URL) as connection:
        for key in connection.scan_iter(f"*{prefix}*"):
            connection.delete(key)


@pytest.fixture
def make_app(app: Flask, app_config: dict[str, Any]) -> Iterator[Callable[..., Flask]]:
    """Another app on the suite's database, with settings changed; cleaned up afterwards (its
    connections closed, Socket.IO handed back to the suite's app)."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        other = create_app({**app_config, **overrides})
        other.test_client_class = Client
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()
    init_socketio(app)


@pytest.fixture
def client(app: Flask) -> Client:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def new_client(app: Flask) -> Callable[[], Client]:
    """Another browser, with its own cookies."""
    return lambda: app.test_client()  # type: ignore[return-value]


# Factories --------------------------------------------------------------------------------------


@pytest.fixture
def make_organisation(app: Flask) -> Callable[..., Organisation]:
    counter = iter(range(1, 10_000))

    def make(
        name: str | None = None,
        kind: OrganisationKind = OrganisationKind.trust,
        region: Region | None = Region.north_west,
        parent: Organisation | None = None,
        ods_code: str | None = None,
    ) -> Organisation:
        org = Organisation(
            name=name or f"Test Trust {next(counter)} NHS Foundation Trust",
            kind=kind,
            region=region,
            parent=parent,
            ods_code=ods_code,
        )
        db.session.add(org)
        db.session.commit()
        return org

    return make


@pytest.fixture
def make_user(app: Flask, make_organisation: Callable[..., Organisation]) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(
        name: str | None = None,
        email: str | None = None,
        *,
        admin: bool = False,
        confirmed: bool = True,
        active: bool = True,
        organisation: Organisation | None = None,
        job_title: str = "Improvement Lead",
        created_at: datetime | None = None,
    ) -> User:
        number = next(counter)
        user = User(
            email=email or f"person{number}@trust.nhs.uk",
            handle=f"person-{number}",
            display_name=name or f"Person {number}",
            job_title=job_title,
            organisation=organisation or make_organisation(),
            password_hash=hash_password(PASSWORD),
            site_role=SiteRole.admin if admin else SiteRole.member,
            active=active,
            email_confirmed_at=utcnow() if confirmed else None,
        )
        if created_at is not None:
            user.created_at = created_at
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_space(app: Flask, make_user: Callable[..., User]) -> Callable[..., Space]:
    counter = iter(range(1, 10_000))

    def make(
        name: str | None = None,
        *,
        visibility: Visibility = Visibility.network,
        join_policy: JoinPolicy = JoinPolicy.open,
        kind: SpaceKind = SpaceKind.sig,
        parent: Space | None = None,
        owner: User | None = None,
        archived: bool = False,
    ) -> Space:
        number = next(counter)
        owner = owner or make_user(f"Owner {number}")
        space = Space(
            slug=f"space-{number}",
            name=name or f"Special Interest Group {number}",
            kind=kind,
            parent=parent,
            visibility=visibility,
            join_policy=join_policy,
            summary="A group for testing.",
            description_source="About **this** group.",
            description_html="<p>About <strong>this</strong> group.</p>",
            archived_at=utcnow() if archived else None,
        )
        space.memberships.append(Membership(user=owner, role=MemberRole.owner))
        db.session.add(space)
        db.session.commit()
        return space

    return make


@pytest.fixture
def add_member(app: Flask) -> Callable[..., Membership]:
    def add(
        space: Space,
        user: User,
        role: MemberRole = MemberRole.member,
        state: MemberState = MemberState.active,
    ) -> Membership:
        membership = Membership(space=space, user=user, role=role, state=state)
        db.session.add(membership)
        db.session.commit()
        return membership

    return add


@pytest.fixture
def person_in(make_user: Callable[..., User], add_member: Callable[..., Membership]) -> Any:
    """The actor for a role named in ``tests.roles`` in a space: anonymous, or a user with that
    standing."""
    from flask_login import AnonymousUserMixin

    from tests.roles import STATES

    def make(role: str, space: Space) -> Any:
        if role == "anonymous":
            return AnonymousUserMixin()
        user = make_user(f"A {role}", admin=role == "admin")
        if role in STATES:
            member_role, state = STATES[role]
            add_member(space, user, member_role, state)
        return user

    return make


@pytest.fixture
def login(app: Flask) -> Callable[..., Any]:
    """Sign a client in through the real sign-in form."""

    def sign_in(
        client: Client, user: User, password: str = PASSWORD, remember: bool = False
    ) -> Any:
        data = {"email": user.email, "password": password}
        if remember:
            data["remember"] = "y"
        response = client.post("/login", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response

    return sign_in


# Query counts and sockets -----------------------------------------------------------------------


@pytest.fixture
def header_count_every_time(app: Flask) -> Iterator[None]:
    """The header's unread count is kept for a few seconds: count its query on every page, so
    query counts never depend on how long the requests took."""
    app.config["HEADER_COUNT_SECONDS"] = 0
    yield
    app.config.pop("HEADER_COUNT_SECONDS")


class SocketClient:
    """A Flask-SocketIO test client whose every call runs in a fresh application context, as each
    event does on a real server (otherwise all sockets share the test's ``g``: its signed-in user,
    its cached memberships)."""

    def __init__(self, app: Flask, client: Any) -> None:
        self._app = app
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._app.app_context():
                return attribute(*args, **kwargs)

        return call


@pytest.fixture
def connect_socket(app: Flask) -> Callable[..., Any]:
    """A Socket.IO test client sharing a test client's cookies (its signed-in session)."""
    from peerlearn.extensions import socketio

    def connect(client: Client, namespace: str | None = None) -> SocketClient:
        with app.app_context():
            socket = socketio.test_client(app, flask_test_client=client, namespace=namespace)
        return SocketClient(app, socket)

    return connect
