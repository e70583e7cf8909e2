"""AuditEntry: one row per audited action, never changed or deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.extensions import db
from peerlearn.spaces.models import Space


class AuditEntry(db.Model):
    """Who did what, to whom, where and when (UTC), from which address."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: Dotted verb, e.g. ``membership.approved``, ``auth.sign_in_failed``, ``admin.user_deactivated``.
    action: Mapped[str] = mapped_column(String(64), index=True)
    #: Who acted; none for the system or an anonymous visitor.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: The person acted upon, when there is one.
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    space_id: Mapped[int | None] = mapped_column(
        ForeignKey("spaces.id", ondelete="SET NULL"), index=True
    )
    #: Remote address of the request that caused it (IPv4 or IPv6); None outside a request or
    #: when that address was not an IP address (a forged X-Forwarded-For, say).
    ip_address: Mapped[str | None] = mapped_column(String(45))
    #: Small, non-secret facts about the action (old and new role, the e-mail tried, …).
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_id])
    space: Mapped[Space | None] = relationship()


class AppendOnlyError(RuntimeError):
    """Raised on an attempt to change or delete an audit entry."""


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_change(mapper: object, connection: object, target: AuditEntry) -> None:
    raise AppendOnlyError("audit entries are append-only")
