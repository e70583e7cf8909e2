"""User accounts and the registration allow-list."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from peerlearn.core.db import utcnow
from peerlearn.core.text import fold_name
from peerlearn.extensions import db

if TYPE_CHECKING:
    from peerlearn.organisations.models import Organisation
    from peerlearn.spaces.models import Membership


def new_session_token() -> str:
    """A fresh random session token."""
    return secrets.token_urlsafe(32)


class SiteRole(enum.StrEnum):
    """A user's role across the whole network."""

    member = "member"
    admin = "admin"


class User(UserMixin, db.Model):
    """A person with an account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Always stored lower-case, so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: Unique, URL-safe name used in profile links and (later) @mentions.
    handle: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    #: ``display_name`` folded for matching ``@[Full Name]`` mentions on any database (SQLite's
    #: ``lower()`` only knows ASCII): case-folded, spaces collapsed. Kept by :meth:`_fold_name`.
    name_key: Mapped[str] = mapped_column(String(120), index=True, default="")
    job_title: Mapped[str] = mapped_column(String(120), default="")
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    bio_source: Mapped[str] = mapped_column(Text, default="")
    #: ``bio_source`` through the text pipeline.
    bio_html: Mapped[str] = mapped_column(Text, default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    site_role: Mapped[SiteRole] = mapped_column(default=SiteRole.member)
    #: Deactivated accounts cannot sign in and their sessions end.
    active: Mapped[bool] = mapped_column(default=True)
    email_confirmed_at: Mapped[datetime | None]
    #: Identifies the account in session and remember-me cookies. Replacing it ends every
    #: session the user has (after a password change or deactivation).
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]

    organisation: Mapped[Organisation | None] = relationship(back_populates="members")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user",
        foreign_keys="Membership.user_id",
        cascade="all, delete-orphan",
    )

    @validates("display_name")
    def _fold_name(self, key: str, value: str) -> str:
        self.name_key = fold_name(value)
        return value

    # Flask-Login --------------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return self.session_token

    # Domain ------------------------------------------------------------------------------------
    @property
    def is_admin(self) -> bool:
        return self.site_role is SiteRole.admin

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def end_other_sessions(self) -> None:
        """Invalidate every session and remember-me cookie issued so far."""
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.handle}>"


class AllowedEmailDomain(db.Model):
    """A domain registration is open to. An empty table means any domain may register."""

    __tablename__ = "allowed_email_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
