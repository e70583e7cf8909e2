"""Notification rows and members' e-mail preferences."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
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
    #: A place at an event, from its waiting list (about an event, not a thread).
    place_given = "place-given"

    @property
    def verb(self) -> str:
        """What the actor did, for notifications about a thread (not :attr:`place_given`)."""
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
        """E-mailed at once, whatever the member's choice but "never": a place at an event cannot
        wait for tomorrow's digest."""
        return self is NotificationKind.place_given


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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    #: When it went out by e-mail (immediately or in a digest); None while still to send.
    emailed_at: Mapped[datetime | None] = mapped_column(index=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    space: Mapped[Space] = relationship()


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
