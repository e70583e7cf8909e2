"""Notification rows and members' e-mail preferences."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.events.changes import Rearrangement
from peerlearn.extensions import db
from peerlearn.spaces.models import Space


class NotificationKind(enum.StrEnum):
    """Why a member is being told about something."""

    reply_to_post = "reply-to-post"
    reply_in_thread = "reply-in-thread"
    mention = "mention"
    new_thread = "new-thread"
    post_solved = "post-solved"
    post_helpful = "post-helpful"
    #: About an event (not a thread): a place at it, from its waiting list; or, for those who
    #: answered it, its cancellation, its going ahead after all, or a new time or place.
    place_given = "place-given"
    event_cancelled = "event-cancelled"
    event_reinstated = "event-reinstated"
    event_rearranged = "event-rearranged"

    @property
    def verb(self) -> str:
        """What the actor did, for notifications about a thread (not an event)."""
        return {
            "reply-to-post": "replied to your post in",
            "reply-in-thread": "replied in",
            "mention": "mentioned you in",
            "new-thread": "started a new thread:",
            "post-solved": "marked your post as the answer in",
            "post-helpful": "found your post helpful in",
        }[self.value]

    @property
    def urgent(self) -> bool:
        """E-mailed at once, whatever the member's choice but "never": news of an event they
        answered (a place at it, its cancellation, its going ahead after all, a new time or
        place) cannot wait for tomorrow's digest, when the event may have been today."""
        return self in _ABOUT_EVENTS


#: The kinds about an event rather than a thread: all urgent.
_ABOUT_EVENTS = frozenset(
    {
        NotificationKind.place_given,
        NotificationKind.event_cancelled,
        NotificationKind.event_reinstated,
        NotificationKind.event_rearranged,
    }
)


class EmailFrequency(enum.StrEnum):
    """How a member wants notification e-mail."""

    immediate = "immediate"
    daily = "daily"
    off = "off"

    @property
    def label(self) -> str:
        return {
            "immediate": "Straight away, one e-mail for each notification",
            "daily": "Once a day, as a digest",
            "off": "Never: I will check peerlearn",
        }[self.value]


class Notification(db.Model):
    """One thing one member should know about: something in a thread, or an event."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_unread", "user_id", "read_at", "id"),
        CheckConstraint("(thread_id IS NULL) <> (event_id IS NULL)", name="about_one"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    #: What it is about: a thread (and ``post_id``, perhaps, a post in it) or an event.
    thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    #: For :attr:`NotificationKind.event_rearranged`, what the edit changed, as it was then
    #: (:meth:`~peerlearn.events.changes.Rearrangement.as_json`): a later edit has its own.
    change: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    #: When it went out by e-mail (immediately or in a digest); None while still to send.
    emailed_at: Mapped[datetime | None] = mapped_column(index=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    space: Mapped[Space] = relationship()

    @property
    def rearrangement(self) -> Rearrangement | None:
        """What an event's edit changed, for a notification of one."""
        return Rearrangement.from_json(self.change) if self.change else None


class NotificationSettings(db.Model):
    """A member's network-wide e-mail choice (daily digest when they have no row)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[EmailFrequency] = mapped_column(default=EmailFrequency.daily)


class SpaceEmailPreference(db.Model):
    """A member's e-mail choice for one space, overriding their network-wide one."""

    __tablename__ = "space_email_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[EmailFrequency]
