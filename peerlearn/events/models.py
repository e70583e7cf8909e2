"""Event, RSVP, calendar-feed and live chat (messages, mutes, Q&A) models."""

from __future__ import annotations

import enum
import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    FetchedValue,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    select,
)
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.core.links import link_host
from peerlearn.discussions.models import ImpactComponent
from peerlearn.extensions import db
from peerlearn.spaces.models import Space


def new_event_uid() -> str:
    """A calendar UID that stays the same however often the event is edited."""
    return f"{uuid.uuid4()}@peerlearn"


def new_feed_token() -> str:
    """The secret part of a personal calendar feed's address."""
    return secrets.token_urlsafe(32)


class RsvpStatus(enum.StrEnum):
    """A member's answer to an event."""

    going = "going"
    interested = "interested"
    not_going = "not-going"

    @property
    def label(self) -> str:
        return {"going": "Going", "interested": "Interested", "not-going": "Not going"}[self.value]


class EventComponent(db.Model):
    """An NHS IMPACT component an event is tagged with."""

    __tablename__ = "event_components"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    component: Mapped[ImpactComponent] = mapped_column(primary_key=True)


class Event(db.Model):
    """An online or in-person event run by a space."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_space_starts", "space_id", "starts_at"),
        UniqueConstraint("created_by_id", "submission_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    description_source: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    #: Stored in UTC; shown in Europe/London.
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    #: The video call's address (:func:`~peerlearn.core.links.web_address_problem` says which).
    joining_url: Mapped[str | None] = mapped_column(String(500))
    venue: Mapped[str | None] = mapped_column(String(300))
    #: Places for people going; None means no limit. Past it, people join a waiting list.
    capacity: Mapped[int | None]
    #: Calendar identity: ``uid`` never changes, ``sequence`` goes up with every change.
    uid: Mapped[str] = mapped_column(String(100), unique=True, default=new_event_uid)
    sequence: Mapped[int] = mapped_column(default=0)
    cancelled_at: Mapped[datetime | None]
    #: Set when a moderator closes the chat early (None: it follows its time window).
    chat_closed_at: Mapped[datetime | None]
    #: Slow mode: seconds a member must wait between chat messages (0: off).
    slow_mode_seconds: Mapped[int] = mapped_column(default=0)
    #: The forum thread the moderator posted the event's record to, once posted.
    record_thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("threads.id", ondelete="SET NULL")
    )
    #: The scheduling form's one-time key, unique per moderator: the same form sent twice (a
    #: double click) schedules one event.
    submission_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    space: Mapped[Space] = relationship()
    created_by: Mapped[User | None] = relationship()
    component_rows: Mapped[list[EventComponent]] = relationship(
        cascade="all, delete-orphan", order_by=EventComponent.component
    )

    @property
    def components(self) -> list[ImpactComponent]:
        return sorted((row.component for row in self.component_rows), key=lambda c: c.number)

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def joining_host(self) -> str | None:
        """The host the joining link really goes to, shown beside it."""
        return link_host(self.joining_url)

    @property
    def finished(self) -> bool:
        """Whether the event has ended: it takes no more answers, and can no longer be cancelled
        or reinstated."""
        return self.ends_at < utcnow()


class Rsvp(db.Model):
    """One member's answer to one event."""

    __tablename__ = "rsvps"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    status: Mapped[RsvpStatus]
    #: Going, but the event was full: promoted in order when a place frees up.
    waitlisted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()


class CalendarFeed(db.Model):
    """A member's personal calendar feed: a secret address listing the events they are going to
    (and, if they choose, those they are interested in). The same secret opens their feed of each
    space they may read (:func:`~peerlearn.events.calendars.space_feed_events`)."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_feed_token)
    #: Also list the events answered "interested" (marked TENTATIVE, not shown as busy).
    include_interested: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatMessage(db.Model):
    """A message in an event's live chat. Stored before it is acknowledged or broadcast; the
    server id orders the chat, and the author's ``client_id`` makes a resend return the same row."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("author_id", "client_id"),
        # An event's messages in id order: history, catching up, and each new message's previous.
        Index("ix_chat_messages_event_id_id", "event_id", "id"),
    )
    # The INSERT returns ``previous_id`` (see below) with the new id: nothing is read back.
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    #: The id of the event's message stored just before this one (None for the first): a reader
    #: given this message knows whether it has every message before it. Set by the INSERT itself
    #: from a subquery (:func:`_name_the_previous_message`), hence "fetched".
    previous_id: Mapped[int | None] = mapped_column(server_default=FetchedValue())
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Chosen by the sending browser, unique per author: resending it stores nothing new.
    client_id: Mapped[str] = mapped_column(String(64))
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Set while a moderator has pinned the message above the chat.
    pinned_at: Mapped[datetime | None]
    pinned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Set while the message is hidden from everyone but the space's moderators: reported as
    #: patient-identifiable information, or hidden by a moderator from their queue. Unlike a
    #: removal, a moderator can restore it.
    hidden_at: Mapped[datetime | None]

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    event: Mapped[Event] = relationship()

    @property
    def shown(self) -> bool:
        """Whether everyone who reads the chat sees its text (not removed, not hidden)."""
        return self.deleted_at is None and self.hidden_at is None


@sa_event.listens_for(ChatMessage, "before_insert")
def _name_the_previous_message(mapper: Any, connection: Any, message: ChatMessage) -> None:
    """Whoever stores a message (the chat, the demo), it names the event's message before it,
    read by the INSERT itself: on SQLite no other writer can come between the two, and on
    PostgreSQL the chat's lock keeps other messages of the event out until the commit
    (:func:`peerlearn.events.chat.post_message`)."""
    message.previous_id = (
        select(func.max(ChatMessage.id))
        .where(ChatMessage.event_id == message.event_id)
        .scalar_subquery()
    )


class ChatMute(db.Model):
    """A member a moderator has muted in one event's chat: they can read but not post or ask."""

    __tablename__ = "chat_mutes"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    muted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuestionStatus(enum.StrEnum):
    """Where a Q&A question stands."""

    open = "open"
    answered = "answered"
    dismissed = "dismissed"


class Question(db.Model):
    """A question in an event's Q&A, voted up by members, marked by moderators, and withdrawn by
    its asker or removed by a moderator. Like chat messages, the author's ``client_id`` makes a
    resend return the same row."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("author_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    client_id: Mapped[str] = mapped_column(String(64))
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[QuestionStatus] = mapped_column(default=QuestionStatus.open)
    status_changed_at: Mapped[datetime | None]
    status_changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    #: The number of QuestionVote rows, kept in step by the vote service for sorting.
    vote_count: Mapped[int] = mapped_column(default=0)
    #: Set when its asker withdrew it or a moderator removed it: from then on it is shown to
    #: nobody, moderators included, and nobody may act on it. The row and its text stay, with
    #: who removed it, for the audit trail (``questions.remove``).
    removed_at: Mapped[datetime | None]
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    event: Mapped[Event] = relationship()


class QuestionVote(db.Model):
    """One member's vote for one question (retracting it deletes the row)."""

    __tablename__ = "question_votes"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
