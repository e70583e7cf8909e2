"""Flags raised by members for moderators to review: on a forum post or on a live chat message,
one queue and one rule for both."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.discussions.models import Post
from peerlearn.events.models import ChatMessage
from peerlearn.extensions import db


class FlagReason(enum.StrEnum):
    """Why a member reported a post or a chat message."""

    spam = "spam"
    abusive = "abusive"
    patient_information = "patient-information"
    other = "other"

    @property
    def label(self) -> str:
        return {
            "spam": "Spam or advertising",
            "abusive": "Abusive, offensive or harassing",
            "patient-information": "Contains patient-identifiable information",
            "other": "Something else",
        }[self.value]


class FlagOutcome(enum.StrEnum):
    """What a moderator decided."""

    hidden = "hidden"  #: the post was hidden
    dismissed = "dismissed"  #: nothing wrong


class Flag(db.Model):
    """One member's report about one post, or one live chat message (exactly one of the two)."""

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("post_id", "reporter_id"),
        UniqueConstraint("chat_message_id", "reporter_id"),
        CheckConstraint("(post_id IS NULL) <> (chat_message_id IS NULL)", name="about_one"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The reported post (None: the report is about a chat message).
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    #: The reported live chat message (None: the report is about a post).
    chat_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_messages.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[FlagReason]
    note: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[FlagOutcome | None]

    post: Mapped[Post | None] = relationship()
    chat_message: Mapped[ChatMessage | None] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
