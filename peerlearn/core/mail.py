"""The one mail service: SMTP when ``MAIL_SERVER`` is set, otherwise an outbox folder and the console.

In the embedded default every message is written to ``MAIL_OUTBOX_DIR`` as an ``.eml`` file (the
tests and the browser journey read confirmation links from there) and, in development, echoed to
the console so a newcomer can follow the link.
"""

import logging
import os
import smtplib
import ssl
import sys
import tempfile
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app

from peerlearn.core.db import utcnow

logger = logging.getLogger(__name__)


def build_message(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """An RFC 5322 message from the configured sender, with a plain-text part and optional HTML."""
    message = EmailMessage()
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


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    host, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    context = ssl.create_default_context()
    if config["MAIL_USE_SSL"]:
        server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, context=context, timeout=30)
    else:
        server = smtplib.SMTP(host, port, timeout=30)
    with server:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            server.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            server.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
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
