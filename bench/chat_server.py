"""A real peerlearn chat server for the chat benchmark and the real-process tests (tests/live,
tests/browser).

Seeds a chat (``python -m bench.chat_server seed --database-url URL --members N`` migrates the
database and prints the ids as JSON), serves it with the production entry point (gunicorn's gevent
worker) or the embedded one (``flask run``, threading), and signs members in through the real form.
Servers listen on loopback addresses only and are stopped by their own process group.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
#: The password of every seeded chat member.
PASSWORD = "chat members' shared bench password 42"  # noqa: S105 - throwaway test accounts
HOST = "127.0.0.1"

#: How each kind of server is started; ``{fd}`` (the listening socket it inherits) and ``{port}``
#: are filled in.
COMMANDS: dict[str, list[str]] = {
    # Production: one gevent worker per process (sticky sessions need one process per port).
    "gevent": [
        *(sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--workers", "1"),
        *("--worker-connections", "10000", "--bind", "fd://{fd}"),
        *("--log-level", "warning", "wsgi:app"),
    ],
    # The embedded default: Flask's own server, Socket.IO in threading mode. It serves the socket
    # named by WERKZEUG_SERVER_FD (see ``Server.start``); host and port say what that socket is.
    "threading": [
        *(sys.executable, "-m", "flask", "--app", "peerlearn", "run"),
        *("--host", HOST, "--port", "{port}", "--no-reload"),
    ],
}


def listening_socket() -> socket.socket:
    """A socket listening on a port of 127.0.0.1 the system chose, held by the caller. Like any
    server's (Werkzeug's, gunicorn's, asyncio's) it sets ``SO_REUSEADDR``: its connections
    closed a moment ago (``TIME_WAIT``) must not keep the port from a restart, or from others
    once it is closed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(128)
    return sock


def app_environment(database_url: str, secret_key: str, redis_url: str | None = None,
                    *, rate_limits: bool = True, folder: Path | None = None) -> dict[str, str]:  # fmt: skip
    """The environment a served app reads (nothing inherited that changes its behaviour)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PEERLEARN_", "MAIL_", "RATELIMIT_"))
        and key not in {"REDIS_URL", "DATABASE_URL", "SECRET_KEY", "UPLOAD_DIR"}
    }
    folder = folder or Path(tempfile.gettempdir())
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=secret_key,
        REDIS_URL=redis_url or "",
        PEERLEARN_ENV="development",
        RATELIMIT_ENABLED="true" if rate_limits else "false",
        MAIL_OUTBOX_DIR=str(folder / "outbox"),
        UPLOAD_DIR=str(folder / "uploads"),
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Server:
    """One server process (its own process group), started and stopped by the caller.

    The server serves a socket this process opened, listening on a port the system chose, and
    keeps until ``stop``: a port found free and let go before the server binds it could be taken
    meanwhile by another test worker's server (whose answers this one's callers would then get).
    A killed server's port stays held for its restart, as a supervisor holding the socket would.
    """

    command: list[str]
    env: dict[str, str]
    log: Path
    listener: socket.socket = field(default_factory=listening_socket)
    process: subprocess.Popen[bytes] | None = None
    port: int = field(init=False)

    def __post_init__(self) -> None:
        self.port = int(self.listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30) -> Server:
        fd = self.listener.fileno()
        command = [part.format(port=self.port, fd=fd) for part in self.command]
        # gunicorn takes the socket as --bind fd://N; Flask's server (Werkzeug) serves the one
        # named by WERKZEUG_SERVER_FD when it runs as its reloader's child, which is how the
        # reloader keeps its port across restarts.
        env = {**self.env, "WERKZEUG_RUN_MAIN": "true", "WERKZEUG_SERVER_FD": str(fd)}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True,
                pass_fds=(fd,),
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"server exited ({self.process.returncode}):\n{self.tail()}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout} s:\n{self.tail()}")

    def kill(self) -> None:
        """Kill -9 the server and its workers, as a crash would."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """Stop at once (SIGINT: gunicorn's quick shutdown, Ctrl+C for flask run), and let the
        port go."""
        self._signal(signal.SIGINT)
        self.listener.close()

    def _signal(self, signum: int) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signum)  # our own child's group: the server and its workers
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def serve(kind: str, env: dict[str, str], log: Path) -> Server:
    """Start a peerlearn server of ``kind`` (gevent or threading) and wait until it answers."""
    return Server(COMMANDS[kind], env, log).start()


def csrf_token(session: requests.Session, url: str) -> str:
    """The CSRF token of the page at ``url``, read as a browser's session would."""
    page = session.get(url, timeout=10)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    if page.status_code != 200 or token is None:
        raise RuntimeError(f"GET {url} answered {page.status_code} without a CSRF token")
    return token.group(1)


def browser_session(base_url: str, email: str, password: str = PASSWORD) -> requests.Session:
    """A session signed in through the real form, to use the site's pages as that member."""
    session = requests.Session()
    form = {"csrf_token": csrf_token(session, base_url + "/login"), "email": email,
            "password": password}  # fmt: skip
    response = session.post(base_url + "/login", data=form, allow_redirects=False, timeout=10)
    if response.status_code != 302:
        raise RuntimeError(f"signing in as {email} failed ({response.status_code})")
    return session


def sign_in(base_url: str, email: str, password: str = PASSWORD) -> str:
    """Sign in through the real form; the ``Cookie`` header a Socket.IO client sends."""
    with browser_session(base_url, email, password) as session:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)


def seed(database_url: str, members: int, log: Path) -> dict[str, Any]:
    """Migrate the database and add the chat (in a subprocess, like any management command)."""
    env = app_environment(database_url, secrets.token_urlsafe(36), folder=log.parent)
    command = [sys.executable, "-m", "bench.chat_server", "seed", "--members", str(members)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _seed_here(members: int) -> dict[str, Any]:
    """Run inside the seeding subprocess: the app's own models on the configured database."""
    from datetime import timedelta

    from flask_migrate import upgrade

    from peerlearn import create_app
    from peerlearn.accounts.models import SiteRole, User
    from peerlearn.accounts.passwords import hash_password
    from peerlearn.core.db import utcnow
    from peerlearn.events.models import Event
    from peerlearn.extensions import db
    from peerlearn.organisations.models import Organisation, OrganisationKind, Region
    from peerlearn.spaces.models import (
        JoinPolicy,
        MemberRole,
        Membership,
        Space,
        SpaceKind,
        Visibility,
    )

    app = create_app()
    with app.app_context():
        upgrade()
        organisation = Organisation(
            name="Chat Test NHS Foundation Trust",
            kind=OrganisationKind.trust,
            region=Region.north_west,
        )
        password_hash = hash_password(PASSWORD)

        def person(email: str, handle: str, name: str) -> User:
            return User(email=email, handle=handle, display_name=name,
                        job_title="Improvement Lead", organisation=organisation,
                        password_hash=password_hash, site_role=SiteRole.member, active=True,
                        email_confirmed_at=utcnow())  # fmt: skip

        users = [
            person(f"chat{number}@trust.nhs.uk", f"chat-{number}", f"Chat Member {number}")
            for number in range(1, members + 1)
        ]
        #: Signed in, but not a member: follows the network-visible chat read-only.
        outsider = person("chat-outsider@trust.nhs.uk", "chat-outsider", "Chat Outsider")
        space = Space(
            slug="live-chat",
            name="Live Chat Group",
            kind=SpaceKind.sig,
            visibility=Visibility.network,
            join_policy=JoinPolicy.open,
            summary="A group whose event chat is open now.",
            description_source="Chat.",
            description_html="<p>Chat.</p>",
        )
        for number, user in enumerate(users):
            role = MemberRole.owner if number == 0 else MemberRole.member
            space.memberships.append(Membership(user=user, role=role))
        now = utcnow()
        events = [
            Event(space=space, title=title, starts_at=now - timedelta(minutes=10),
                  ends_at=now + timedelta(hours=6), joining_url="https://meet.example.org/chat")
            for title in ("Chat now", "Another chat now")
        ]  # fmt: skip
        db.session.add_all([space, outsider, *events])
        db.session.commit()
        return {
            "event_id": events[0].id,
            "other_event_id": events[1].id,
            "members": [user.email for user in users],
            "outsider": outsider.email,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    seeding = commands.add_parser("seed", help="migrate DATABASE_URL and add a chat open now")
    seeding.add_argument("--members", type=int, default=4)
    args = parser.parse_args(argv)
    print(json.dumps(_seed_here(args.members)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
