"""Shared helpers for the live chat's Socket.IO tests (the fixtures ``live_event`` and ``chatter``
are in conftest.py)."""

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from peerlearn.audit.models import AuditEntry
from peerlearn.core.db import utcnow
from peerlearn.events.models import Event
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
