"""Real-process fixtures: the app served by a real server on 127.0.0.1, driven by real clients.

A small chat (two events open now, members and an outsider) is seeded once per backend by the
app's own code in a subprocess, in a database of its own beside the suite's (``own_database``,
tests/databases.py); each module gets a copy, since its servers write to it. The scheduler in
tests/conftest.py keeps these modules on one worker per backend (one seed each).
``serve(kind)`` starts the production entry point (``gunicorn --worker-class gevent``) or the
embedded one (``flask run``, threading) on a port of its own; ``connect(server, email)`` signs in
through the real form and opens a ``python-socketio`` client with that session's cookie. Every
server is stopped by its process group after the test.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench import chat_server
from bench.chat_server import Server, app_environment, seed, sign_in
from tests.databases import own_database

from .clients import LiveClient

REDIS_URL = os.environ.get("PEERLEARN_TEST_REDIS_URL", "").strip()


@dataclass
class Chat:
    """The seeded chat: a database, two events open now, members and an outsider who can sign
    in."""

    database_url: str
    folder: Path
    event_id: int
    other_event_id: int
    members: list[str]
    #: Signed in but not a member of the chat's space (open to the whole network).
    outsider: str
    #: Shared by every server on this database, so sessions survive a restart.
    secret_key: str
    #: The Redis channel of these servers only, so no other server on that Redis hears them.
    channel: str

    def environment(self, redis_url: str | None = None, rate_limits: bool = True) -> dict[str, str]:
        env = app_environment(
            self.database_url, self.secret_key, redis_url, rate_limits=rate_limits,
            folder=self.folder,
        )  # fmt: skip
        env["PEERLEARN_SOCKETIO_CHANNEL"] = self.channel
        return env


@pytest.fixture(scope="session")
def seeded_chat(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The chat seeded once per backend (and per worker that runs these tests): its database,
    which no server opens (modules copy it), and the seed's ids and accounts."""
    folder = tmp_path_factory.mktemp("chat")
    with own_database(database_url, folder, "chat") as url:
        yield url, seed(url, members=5, log=folder / "seed.log")


@pytest.fixture(scope="module")
def chat(
    seeded_chat: tuple[str, dict[str, Any]],
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Chat]:
    """A copy of the seeded chat for this module's servers."""
    seeded_url, seeded = seeded_chat
    folder = tmp_path_factory.mktemp("live")
    with own_database(database_url, folder, "chat_copy", seeded_url) as url:
        yield Chat(
            database_url=url,
            folder=folder,
            event_id=seeded["event_id"],
            other_event_id=seeded["other_event_id"],
            members=seeded["members"],
            outsider=seeded["outsider"],
            secret_key=secrets.token_urlsafe(36),
            channel=f"peerlearn-test-{secrets.token_hex(6)}",
        )


@pytest.fixture
def serve(chat: Chat, request: pytest.FixtureRequest) -> Iterator[Callable[..., Server]]:
    """Start servers of a kind (gevent or threading); all stopped afterwards, logs shown on failure.

    Rate limits stay on, as in production; the tests keep under them."""
    started: list[Server] = []

    def start(kind: str, redis_url: str | None = None, rate_limits: bool = True) -> Server:
        log = chat.folder / f"{request.node.name}-{len(started)}.log"
        server = chat_server.serve(kind, chat.environment(redis_url, rate_limits), log)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    if getattr(request.node, "failed", False):
        for server in started:
            print(f"--- {server.log.name}\n{server.tail(60)}")


@pytest.fixture(scope="module")
def cookies(chat: Chat) -> dict[str, str]:
    """Each member's browser session, kept across servers and restarts (one secret key)."""
    return {}


@pytest.fixture
def connect(cookies: dict[str, str]) -> Iterator[Callable[..., LiveClient]]:
    """A Socket.IO client on a server, signed in as a member (through the form, once)."""
    clients: list[LiveClient] = []

    def make(server: Server, email: str) -> LiveClient:
        if email not in cookies:
            cookies[email] = sign_in(server.url, email)
        client = LiveClient(server.url, cookies[email])
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    if report.failed:
        item.failed = True  # type: ignore[attr-defined]
    return report


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything here starts real servers: ``-m 'not live'`` leaves it out."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.live)
