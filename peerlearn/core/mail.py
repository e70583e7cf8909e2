"""The one mail service: SMTP when ``MAIL_SERVER`` is set, otherwise an outbox folder and the console.

In the embedded default every message is written to ``MAIL_OUTBOX_DIR`` as an ``.eml`` file (the
tests and the browser journey read confirmation links from there) and, in development, echoed to
the console so a newcomer can follow the link.
"""

import contextlib
import logging
import os
import smtplib
import ssl
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import Policy, default
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app

from peerlearn.core.db import utcnow

logger = logging.getLogger(__name__)


class _OneLineHeader(UnstructuredHeader):
    """A header written on one line as it is: RFC 2369's ``List-Unsubscribe``, a link in angle
    brackets that mail clients read to offer their own unsubscribe button. Python folds a value
    longer than a line with no space in it into encoded words, which hold no link to them."""

    max_count = 1

    def fold(self, *, policy: Policy) -> str:
        if not str(self).isascii():  # never our links; encoded as any other header would be
            return super().fold(policy=policy)
        return f"{self.name}: {self}{policy.linesep}"


_headers = HeaderRegistry()
_headers.map_to_type("list-unsubscribe", _OneLineHeader)
#: Python's default e-mail policy, but for the headers that must stay on one line.
POLICY = default.clone(header_factory=_headers)


def build_message(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """An RFC 5322 message from the configured sender, with a plain-text part and optional HTML."""
    message = EmailMessage(policy=POLICY)
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="peerlearn.example")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send_mail(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Send one message through the configured transport (``headers`` adds e.g. List-Unsubscribe)."""
    message = build_message(to, subject, text, html, headers)
    config = current_app.config
    if config.get("MAIL_SERVER"):
        _send_smtp(message)
    else:
        path = _write_outbox(message, Path(config["MAIL_OUTBOX_DIR"]))
        if config.get("PEERLEARN_ENV") == "development":
            _echo(message, path)
    logger.info("mail sent to=%s subject=%r", to, subject)


def _connect() -> smtplib.SMTP:
    """A connection to the configured SMTP server, secured and signed in as configured."""
    config = current_app.config
    host, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    context = ssl.create_default_context()
    if config["MAIL_USE_SSL"]:
        server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, context=context, timeout=30)
    else:
        server = smtplib.SMTP(host, port, timeout=30)
    try:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            server.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            server.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    except BaseException:
        server.close()
        raise
    return server


class _Connection:
    """One SMTP connection shared by the messages sent inside :func:`one_connection`: opened by
    the first, closed at the end, and dropped (to be opened again) after a failed send."""

    def __init__(self) -> None:
        self.server: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        if self.server is not None:
            try:
                self.server.send_message(message)
                return
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                # The server hung up on the connection kept open since the last message (idle
                # too long, or a limit of messages per connection): once more, on a new one.
                self.close()
            except BaseException:
                self.close()
                raise
        self.server = _connect()
        try:
            self.server.send_message(message)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.server is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.server.quit()
            self.server.close()
            self.server = None


_shared: ContextVar[_Connection | None] = ContextVar("peerlearn_smtp_connection", default=None)


@contextlib.contextmanager
def one_connection() -> Iterator[None]:
    """Send every message in the block over one SMTP connection rather than one each (a digest
    run, or a reply's immediate e-mails to everyone who follows the thread). Nested blocks share
    the outer one's connection; without ``MAIL_SERVER`` it changes nothing."""
    if _shared.get() is not None:
        yield
        return
    connection = _Connection()
    token = _shared.set(connection)
    try:
        yield
    finally:
        _shared.reset(token)
        connection.close()


def _send_smtp(message: EmailMessage) -> None:
    shared = _shared.get()
    if shared is not None:
        shared.send(message)
        return
    with _connect() as server:
        server.send_message(message)


def _write_outbox(message: EmailMessage, outbox: Path) -> Path:
    """Write the message atomically, so a reader never sees half a file."""
    outbox.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
    fd, tmp = tempfile.mkstemp(dir=outbox, prefix=".tmp-", suffix=".eml")
    with os.fdopen(fd, "wb") as handle:
        handle.write(message.as_bytes())
    final = outbox / name
    os.replace(tmp, final)
    return final


def _echo(message: EmailMessage, path: Path) -> None:
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    sys.stderr.write(
        f"\n----- e-mail (development outbox: {path}) -----\n"
        f"To: {message['To']}\nSubject: {message['Subject']}\n\n{text}\n"
        "-----------------------------------------------\n"
    )
