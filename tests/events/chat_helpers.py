"""Shared helpers for the live chat's Socket.IO tests (the fixtures ``live_event`` and ``chatter``
are in conftest.py)."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import sqlalchemy
from sqlalchemy import select
from sqlalchemy.orm import Session

from peerlearn.accounts.models import User
from peerlearn.audit.models import AuditEntry
from peerlearn.core.db import utcnow
from peerlearn.events.models import ChatMessage, Event
from peerlearn.extensions import db
from peerlearn.spaces.models import Space


def ask(socket: Any, event: str, data: Any) -> Any:
    """Emit a client event on /live and return its acknowledgement."""
    return socket.emit(event, data, namespace="/live", callback=True)


def received(socket: Any, name: str = "message") -> list[Any]:
    """The payloads of the events of one name the socket has received since last asked (the
    others received meanwhile are dropped)."""
    events = [e for e in socket.get_received("/live") if e["name"] == name]
    # The test client hands "message" events over as the bare payload, others as a list.
    return [e["args"] if name == "message" else e["args"][0] for e in events]


def code(ack: dict[str, Any]) -> str:
    """``ok``, or the error code of a refused acknowledgement."""
    return "ok" if ack.get("ok") else ack["error"]["code"]


def audited() -> list[str]:
    """The chat's actions in the audit log, oldest first."""
    query = select(AuditEntry.action).where(AuditEntry.action.startswith("chat."))
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


def event_on_now(space: Space) -> Event:
    """An event in ``space`` that started a moment ago, for an hour: its chat is open."""
    event = Event(space=space, title="Live", starts_at=utcnow(),
                  ends_at=utcnow() + timedelta(hours=1), venue="Leeds")  # fmt: skip
    db.session.add(event)
    db.session.commit()
    return event


def stored_messages(event: Event, author: User, numbers: range | list[int]) -> list[int]:
    """Store ``Message <n>`` from ``author`` for each ``n``, in order, straight into the database
    (nothing broadcast): a long chat at once. Returns their ids."""
    messages = [
        ChatMessage(
            event_id=event.id,
            author_id=author.id,
            client_id=f"m{n}",
            body_source=f"Message {n}",
            body_html=f"<p>Message {n}</p>",
        )
        for n in numbers
    ]
    db.session.add_all(messages)
    db.session.commit()
    return [message.id for message in messages]


@contextmanager
def held_before_commit(client_id: str, *threads: threading.Thread) -> Iterator[threading.Event]:
    """Hold back, until the block ends, whichever thread stores the message or question with
    this ``client_id``, just after its INSERT and before its commit (a slow server); the event
    yielded is set once it is held. The ``threads`` started in the block are waited for at its
    end."""
    held, release = threading.Event(), threading.Event()

    def hold(session: Session, flush_context: Any) -> None:
        if any(getattr(row, "client_id", None) == client_id for row in session.new):
            held.set()
            release.wait(10)

    sqlalchemy.event.listen(Session, "after_flush", hold)
    try:
        yield held
    finally:
        release.set()
        for thread in threads:
            if thread.ident is not None:
                thread.join()
        sqlalchemy.event.remove(Session, "after_flush", hold)


#: The report reason that hides a member's message at once.
PATIENT = "patient-information"


def report(socket, message, reason=PATIENT, **extra):
    return ask(socket, "report_message", {"message_id": message.id, "reason": reason, **extra})


def joined(socket, event):
    ack = ask(socket, "join", {"event_id": event.id})
    assert ack["ok"], ack
    socket.get_received("/live")  # the presence list the join broadcasts
    return ack
