"""Flags raised by members for moderators to review."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.discussions.models import Post
from peerlearn.extensions import db


class FlagReason(enum.StrEnum):
    """Why a member reported a post."""

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
    """One member's report about one post."""

    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("post_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[FlagReason]
    note: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[FlagOutcome | None]

    post: Mapped[Post] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
