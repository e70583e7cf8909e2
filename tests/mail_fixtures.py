"""The e-mail a test can read: ``outbox``, the messages the app has written to MAIL_OUTBOX_DIR (as
it does when no mail server is set); ``smtp_server``, a real SMTP server the app sends to for the
test; and ``refused_port``, a port where no mail server answers. A plugin, registered by
``pytest_plugins`` in tests/conftest.py."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from bench.chat_server import listening_socket


@dataclass
class Mail:
    """One message from the outbox."""

    to: str
    subject: str
    text: str

    def link(self, path_prefix: str) -> str:
        """The path of the first link in the message starting with ``path_prefix``."""
        match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"[^\s]*)", self.text)
        assert match, f"no {path_prefix} link in: {self.text}"
        return match.group(1)


class Outbox:
    """The messages the app has 'sent' (written to MAIL_OUTBOX_DIR), oldest first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def messages(self) -> list[Mail]:
        if not self.folder.exists():
            return []
        mails = []
        for path in sorted(self.folder.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
            # A subject too long for its first line is folded straight after "Subject:", and
            # read back with the fold's space in front, as a mail client unfolding it would not.
            subject = message["Subject"].lstrip()
            mails.append(Mail(to=message["To"], subject=subject, text=body.get_content()))
        return mails

    def to(self, address: str) -> list[Mail]:
        return [mail for mail in self.messages() if mail.to == address]

    def last(self, address: str) -> Mail:
        mails = self.to(address)
        assert mails, f"no e-mail to {address}; outbox: {[m.to for m in self.messages()]}"
        return mails[-1]


@pytest.fixture
def outbox(app: Flask) -> Outbox:
    return Outbox(Path(app.config["MAIL_OUTBOX_DIR"]))


class SMTPServer:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives: each message with
    the connection it came over."""

    def __init__(self) -> None:
        self.received: list[tuple[int, email.message.EmailMessage]] = []
        #: Each message as it came over the wire, before parsing undoes any encoding.
        self.raw: list[bytes] = []
        self._sessions: dict[int, int] = {}
        #: Addresses this server refuses (a mailbox that no longer exists, say).
        self.refused: set[str] = set()
        #: Addresses whose messages it rejects once it has them (as spam, say).
        self.rejected: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.rejected & set(envelope.rcpt_tos):
            return "554 5.7.1 Message rejected as spam"
        connection = self._sessions.setdefault(id(session), len(self._sessions) + 1)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((connection, message))  # type: ignore[arg-type]
        self.raw.append(envelope.content)
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [message for _, message in self.received if message["To"] == address]

    @property
    def connections(self) -> int:
        return len({connection for connection, _ in self.received})


def start_smtp_server(handler: SMTPServer, listener: socket.socket) -> Any:
    """An aiosmtpd ``Controller`` serving ``listener``, started. aiosmtpd's controller binds the
    host and port it is given; this one serves the socket the fixture already holds, so the port
    is never free for another test worker to take (as it would be between finding it free and a
    bind of its own). The server gets a duplicate, which it closes when it stops: the fixture's
    socket keeps the port for a restart."""
    from aiosmtpd.controller import Controller

    class HeldSocketController(Controller):
        # The hook aiosmtpd's BaseController leaves subclasses for creating the asyncio server.
        def _create_server(self) -> Any:
            return self.loop.create_server(self._factory_invoker, sock=listener.dup())

    host, port = listener.getsockname()
    controller = HeldSocketController(handler, hostname=host, port=port)
    controller.start()
    return controller


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[SMTPServer]:
    """The app sends its mail to a real SMTP server for the test (plain SMTP, no sign-in)."""
    server = SMTPServer()
    listener = listening_socket()
    try:
        running = [start_smtp_server(server, listener)]
    except BaseException:
        listener.close()
        raise

    def restart() -> None:
        """Stop the server, dropping every connection, and start a new one on the same port."""
        running[0].stop()
        running[0] = start_smtp_server(server, listener)

    server.restart = restart  # type: ignore[attr-defined]
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS")}
    port = listener.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False)
    try:
        yield server
    finally:
        app.config.update(saved)
        running[0].stop()
        listener.close()


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port of 127.0.0.1 where connections are refused (a mail server that is down): bound for
    the test, so nobody else can listen on it, but never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]
