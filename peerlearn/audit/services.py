"""Writing to and reading from the audit log."""

import ipaddress
from typing import Any

from flask import has_request_context, request
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from peerlearn.spaces.models import Space


def record(
    action: str,
    *,
    actor: User | None = None,
    subject: User | None = None,
    space: Space | None = None,
    **detail: Any,
) -> AuditEntry:
    """Add an audit entry to the current unit of work (committed with the change it records)."""
    entry = AuditEntry(
        action=action,
        actor_id=actor.id if actor is not None else None,
        subject_id=subject.id if subject is not None else None,
        space_id=space.id if space is not None else None,
        ip_address=_client_address(),
        detail={key: value for key, value in detail.items() if value is not None},
    )
    db.session.add(entry)
    return entry


def _client_address() -> str | None:
    """The request's client address, or None when it is not an IP address. With
    PEERLEARN_PROXY_COUNT set higher than the proxies really in front, it is whatever the client
    wrote in X-Forwarded-For, and no header may stop the action being recorded."""
    if not has_request_context():
        return None
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return None
    return str(ipaddress.ip_address(address.packed))  # without an IPv6 zone, which has no limit


def entries_query(*, space: Space | None = None, action_prefix: str | None = None) -> Select[Any]:
    """Newest-first audit entries, optionally for one space or one family of actions."""
    query = (
        select(AuditEntry)
        .options(
            selectinload(AuditEntry.actor),
            selectinload(AuditEntry.subject),
            selectinload(AuditEntry.space),
        )
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )
    if space is not None:
        query = query.where(AuditEntry.space_id == space.id)
    if action_prefix:
        query = query.where(AuditEntry.action.startswith(action_prefix, autoescape=True))
    return query
